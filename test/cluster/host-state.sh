#!/usr/bin/env bash
# Prints the host state a real node can change, one fact per line, sorted, so that two snapshots
# (before up.sh, after down.sh) can be compared with diff: node processes (pod processes show as
# kubepods cgroups), mounts (overlays, network
# namespaces, anything under /tmp or /run/containerd), network links, KUBE-* iptables chains, nftables
# tables, the sysctls in NODE_SYSCTLS, the host directories in NODE_HOST_DIRS and the kubepods cgroups.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=node-lib.sh source-path=SCRIPTDIR
source "$here/node-lib.sh"
{
  for p in kubelet kube-proxy containerd containerd-shim; do
    pgrep -x "$p" > /dev/null && echo "process $p running"
  done
  awk '$9 == "overlay" || $9 == "nsfs" || $5 ~ /^\/run\/(containerd|netns)/ || $5 ~ /kubelet/ { print "mount", $9, $5 }' /proc/self/mountinfo
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print "link", $2 }'
  for tool in iptables ip6tables; do
    node_kube_chains "$tool" | sed "s/^/$tool chain /"
  done
  nft list tables 2> /dev/null | sed 's/^/nft /'
  for s in "${NODE_SYSCTLS[@]}"; do
    if [[ -e "/proc/sys/${s//.//}" ]]; then echo "sysctl $s=$(sysctl -n "$s")"; fi
  done
  for d in "${NODE_HOST_DIRS[@]}"; do [[ -e "$d" ]] && echo "dir $d"; done
  for cg in /sys/fs/cgroup/*/kubepods; do [[ -d "$cg" ]] && echo "cgroup $cg"; done
  if [[ -e "$NODE_LOCK" ]]; then echo "lock $NODE_LOCK"; fi
} | sort
