# shellcheck shell=bash disable=SC2034
# The real node's fixed facts and the host state it changes, shared by up.sh, node-up.sh,
# node-down.sh and host-state.sh. Source it after lib.sh (STATE must be set before the functions
# run). It defines variables and functions only.
#
# One real node per machine: the kubelet's ports (10250 API, 10248 healthz), the bridge, the
# kubepods cgroups and a few host directories the kubelet and containerd always use
# (/var/lib/kubelet/device-plugins, /run/containerd, /var/lib/cni, /var/run/netns) are host-wide.
# NODE_LOCK records which cluster owns them; a second cluster with a real node is refused.

NODE_NAME=cc-node-0
NODE_BRIDGE=ccnode0
NODE_IP=10.244.77.1
NODE_POD_CIDR=10.244.77.0/24
NODE_LOCK=/run/cloudconnect-real-node.owner
# Host sysctls the kubelet, the CNI bridge plugin or kube-proxy set: saved by node-up.sh before
# anything starts, put back by node-down.sh.
NODE_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward
  net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait)
# Host directories the node creates outside STATE even when every configurable path points into it.
NODE_HOST_DIRS=(/var/lib/kubelet /var/log/containers /var/log/pods /run/containerd /var/lib/cni /var/run/netns /etc/cni)

node_dir() { echo "$STATE/node"; }
node_sock() { echo "$STATE/node/containerd/containerd.sock"; }

# True when this machine can run the real node: root, Linux tools from Debian, cgroups mounted.
node_missing_tools() {
  local t missing=()
  for t in containerd containerd-shim-runc-v2 runc ctr iptables ip6tables nft conntrack ip umoci; do
    command -v "$t" > /dev/null || missing+=("$t")
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || missing+=(containernetworking-plugins)
  echo "${missing[*]}"
}

# node_owner: the STATE dir that holds the real node now ("" when none, or its owner is gone).
node_owner() {
  local owner
  [[ -f "$NODE_LOCK" ]] || return 0
  owner="$(cat "$NODE_LOCK")"
  if [[ -d "$owner/node" ]]; then echo "$owner"; fi
}

# The KUBE-* iptables chains (kubelet canaries, KUBE-FIREWALL) in one family: "table chain" lines.
node_kube_chains() { # iptables|ip6tables
  local t
  for t in filter nat mangle; do
    "$1" -t "$t" -S 2> /dev/null | awk -v t="$t" '$1 == "-N" && $2 ~ /^KUBE-/ { print t, $2 }'
  done
}

# Claims the real node for STATE and creates its bridge with the node's address, so that Vault, NATS
# and the simulators can listen on NODE_IP before the node itself starts. Saves the host sysctls
# first (node-down.sh restores them).
node_claim_and_bridge() {
  local owner d s
  owner="$(node_owner)"
  if [[ -n "$owner" && "$owner" != "$STATE" ]]; then
    echo "[node] the real node of this machine belongs to the cluster in $owner: stop it first (test/cluster/down.sh $owner, or make down)" >&2
    return 1
  fi
  mkdir -p "$(node_dir)"
  echo "$STATE" > "$NODE_LOCK"
  if [[ ! -f "$(node_dir)/sysctl.saved" ]]; then
    for s in "${NODE_SYSCTLS[@]}"; do
      if [[ -e "/proc/sys/${s//.//}" ]]; then echo "$s=$(sysctl -n "$s")"; fi
    done > "$(node_dir)/sysctl.saved"
    for d in "${NODE_HOST_DIRS[@]}"; do [[ -e "$d" ]] && echo "$d"; done > "$(node_dir)/host-dirs.before" || true
    { ls /var/run/netns 2> /dev/null || true; } > "$(node_dir)/netns.before"
  fi
  if ! ip link show "$NODE_BRIDGE" > /dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
    ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE"
  fi
  ip link set "$NODE_BRIDGE" up
}
