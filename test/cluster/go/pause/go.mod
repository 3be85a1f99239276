// The pod sandbox's pause program for the local node's containerd (sandbox_image), built here like
// the control plane so that no registry is needed. Standard library only.
module cloudconnect.dev/testcluster/pause

go 1.26.0
