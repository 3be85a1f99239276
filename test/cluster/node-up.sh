#!/usr/bin/env bash
# Adds a real node to the control plane in STATE_DIR: containerd + runc (Debian), a kubelet with its
# own client certificate (Node authorizer + NodeRestriction) and a serving certificate (kubectl
# logs/exec/port-forward work), CNI bridge networking on NODE_BRIDGE, and kube-proxy (nftables) for
# Services. Called by up.sh when CLUSTER_NODE=real, after the apiserver is ready and after
# node_claim_and_bridge. Usage: node-up.sh STATE_DIR API_URL. Needs root.
# The settings this machine needs, and why, are in README.md ("The real node").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck source=node-lib.sh source-path=SCRIPTDIR
source "$here/node-lib.sh"
STATE="${1:?usage: node-up.sh STATE_DIR API_URL}"
API_URL="${2:?usage: node-up.sh STATE_DIR API_URL}"
BIN="$STATE/bin"
PKI="$STATE/pki"
N="$(node_dir)"
say() { printf '[node] %s\n' "$*"; }
fail() { echo "[node] ERROR: $*" >&2; if [[ -n "${2:-}" ]]; then cluster_log_tail "$2"; fi; exit 1; }
kc() { "$BIN/kubectl" --kubeconfig "$STATE/kubeconfig" "$@"; }
mkdir -p "$N"/{containerd,kubelet,pod-logs,volume-plugins,cni/net.d,cni/ipam,cni/cache,kube-proxy}

# --- binaries: kubelet and kube-proxy from the Go module proxy (go/kubenode), containerd from Debian
flock "$(cluster_cache_dir)/.up-build.lock" "$here/build.sh" kubenode
kubenode="$(cluster_bin_path kubenode)"
[[ -x "$kubenode" ]] || fail "build.sh did not produce $kubenode"
ln -sfn "$kubenode" "$BIN/kubenode"
ln -sfn kubenode "$BIN/kubelet"
ln -sfn kubenode "$BIN/kube-proxy"
ln -sfn "$(command -v containerd)" "$BIN/containerd"

# --- certificates, signed by the cluster CA (lib.sh cluster_sign, as up.sh's)
sign() { cluster_sign "$@" || fail "openssl could not sign the $1 certificate"; }
sign kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
sign kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
sign kube-proxy "/CN=system:kube-proxy" clientAuth
node_kubeconfig() { # FILE CERT
  cat > "$1" << EOF
apiVersion: v1
kind: Config
clusters:
- name: cloudconnect-test
  cluster: {server: "$API_URL", certificate-authority: "$PKI/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$PKI/$2.crt", client-key: "$PKI/$2.key"}
contexts:
- name: default
  context: {cluster: cloudconnect-test, user: $2}
current-context: default
EOF
  chmod 600 "$1"
}
node_kubeconfig "$N/kubelet.kubeconfig" kubelet-client
node_kubeconfig "$N/kube-proxy.kubeconfig" kube-proxy
# The apiserver's own client certificate for kubelet calls (logs, exec) may use the kubelet API.
kc create clusterrolebinding cloudconnect-apiserver-kubelet --clusterrole=system:kubelet-api-admin \
  --user=kube-apiserver-kubelet-client --dry-run=client -o yaml | kc apply -f - > /dev/null

# --- the pause image (the pod sandbox), built here: no registry is reachable
pause_line="$("$root/test/image/build.sh" pause | tail -n 1)"
pause_image="$(sed -n 's/.*IMAGE=\([^ ]*\).*/\1/p' <<< "$pause_line")"
pause_tar="$(sed -n 's/.*TAR=\([^ ]*\).*/\1/p' <<< "$pause_line")"
[[ -n "$pause_image" && -f "$pause_tar" ]] || fail "test/image/build.sh pause printed no IMAGE=... TAR=... line (got '$pause_line')"
echo "$pause_image" > "$N/pause-image"

# --- containerd: its own config, root, state and socket under STATE. restrict_oom_score_adj: this
# VM's root lacks CAP_SYS_RESOURCE, and runc fails every sandbox when asked for a negative score.
sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 2> /dev/null || true
cat > "$N/containerd/config.toml" << EOF
version = 2
root = "$N/containerd/root"
state = "$N/containerd/state"
[grpc]
  address = "$(node_sock)"
[ttrpc]
  address = "$(node_sock).ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$N/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$N/cni/net.d"
    max_conf_num = 1
EOF
cat > "$N/cni/net.d/10-cloudconnect.conflist" << EOF
{
  "cniVersion": "1.0.0",
  "name": "cloudconnect",
  "plugins": [
    {
      "type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$N/cni/ipam",
        "ranges": [[{"subnet": "$NODE_POD_CIDR", "rangeStart": "${NODE_IP%.*}.10", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
cluster_start_proc containerd "$BIN/containerd" --config "$N/containerd/config.toml"
ctr_() { ctr --address "$(node_sock)" -n k8s.io "$@"; }
for _ in $(seq 1 100); do ctr_ version > /dev/null 2>&1 && break; cluster_proc_alive containerd || break; sleep 0.1; done
ctr_ version > /dev/null 2>&1 || fail "containerd did not answer on $(node_sock)" containerd
if ! ctr_ images ls -q | grep -qxF "$pause_image"; then ctr_ images import "$pause_tar" > /dev/null; fi
say "containerd ready on $(node_sock) (pause image $pause_image)"

# --- the kubelet. failCgroupV1: this VM mounts cgroup v1 (hybrid), which 1.35 refuses by default.
# resolvConf: the host's resolver is off the machine; pods get the node address (nothing listens on
# 53, so lookups fail fast) and reach Vault, NATS and the simulators by IP.
echo "nameserver $NODE_IP" > "$N/resolv.conf"
cat > "$N/kubelet/config.yaml" << EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$PKI/kubelet-serving.crt"
tlsPrivateKeyFile: "$PKI/kubelet-serving.key"
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: "unix://$(node_sock)"
resolvConf: "$N/resolv.conf"
podLogsDir: "$N/pod-logs"
volumePluginDir: "$N/volume-plugins"
serializeImagePulls: false
makeIPTablesUtilChains: false
maxPods: 60
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
syncFrequency: 5s
fileCheckFrequency: 5s
nodeStatusReportFrequency: 10s
EOF
cluster_start_proc kubelet "$BIN/kubelet" \
  --config="$N/kubelet/config.yaml" \
  --kubeconfig="$N/kubelet.kubeconfig" \
  --root-dir="$N/kubelet/root" \
  --cert-dir="$N/kubelet/pki" \
  --hostname-override="$NODE_NAME" \
  --node-ip="$NODE_IP" \
  --node-labels="cloudconnect.dev/node=real"

# --- kube-proxy, nftables mode, node ports only on the bridge address; conntrack sysctls left alone.
cat > "$N/kube-proxy/config.yaml" << EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection: {kubeconfig: "$N/kube-proxy.kubeconfig"}
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
clusterCIDR: $NODE_POD_CIDR
nodePortAddresses: ["$NODE_IP/32"]
healthzBindAddress: ""
metricsBindAddress: ""
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
cluster_start_proc kube-proxy "$BIN/kube-proxy" --config="$N/kube-proxy/config.yaml"

node_ready() { [[ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2> /dev/null)" == True ]]; }
for i in $(seq 1 300); do
  node_ready && break
  cluster_proc_alive kubelet || fail "the kubelet exited" kubelet
  ((i < 300)) || fail "node $NODE_NAME not Ready after 60 s" kubelet
  sleep 0.2
done
node_untainted() { [[ -z "$(kc get node "$NODE_NAME" -o jsonpath='{.spec.taints}')" ]]; }
for i in $(seq 1 300); do
  node_untainted && break
  ((i < 300)) || fail "node $NODE_NAME kept its taints for 60 s" kube-controller-manager
  sleep 0.2
done
cluster_proc_alive kube-proxy || fail "kube-proxy exited" kube-proxy
say "node $NODE_NAME Ready at $NODE_IP (kubelet + containerd + runc, CNI bridge $NODE_BRIDGE, kube-proxy nftables)"
