#!/usr/bin/env bash
# Stops the real node of the cluster in STATE_DIR and undoes the host state it changed, in two
# phases. First (node-down.sh STATE_DIR): pod processes, containerd shims, kubelet, kube-proxy,
# containerd, every mount under STATE_DIR, the pods' network namespaces, the kubepods cgroups,
# kube-proxy's nftables tables and KUBE-* iptables chains. Then, once the control plane is stopped
# (node-down.sh --finish STATE_DIR): the bridge (the apiserver and Vault listen on its address until
# they stop; without it the apiserver's shutdown hangs on calls to itself), the sysctls (restored to
# their saved values), the host directories that did not exist before, and the claim on the node.
# Called by down.sh (and up.sh on failure); each phase is safe to run twice.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck source=node-lib.sh source-path=SCRIPTDIR
source "$here/node-lib.sh"
finish=0
if [[ "${1:-}" == --finish ]]; then finish=1; shift; fi
STATE="${1:?usage: node-down.sh [--finish] STATE_DIR}"
N="$(node_dir)"
[[ -d "$N" ]] || exit 0
say() { printf '[down] node: %s\n' "$*"; }
t0="$(cluster_now)"
# Mounts under a directory, deepest first.
mounts_under() { awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-; }

if ((finish)); then
  ip link show "$NODE_BRIDGE" > /dev/null 2>&1 && ip link delete "$NODE_BRIDGE"
  if [[ -f "$N/sysctl.saved" ]]; then
    while IFS='=' read -r k v; do sysctl -qw "$k=$v" 2> /dev/null; done < "$N/sysctl.saved"
  fi
  for d in "${NODE_HOST_DIRS[@]}"; do
    if [[ -e "$d" ]] && ! grep -qxF "$d" "$N/host-dirs.before" 2> /dev/null; then rm -rf "$d"; fi
  done
  rm -rf /var/lib/cni/results/cloudconnect-* 2> /dev/null
  if [[ "$(cat "$NODE_LOCK" 2> /dev/null)" == "$STATE" ]]; then rm -f "$NODE_LOCK"; fi
  say "bridge, sysctls and host directories restored ($(cluster_since "$t0") s)"
  exit 0
fi

cluster_stop_proc kubelet
cluster_stop_proc kube-proxy

# Pod processes: everything in the kubepods cgroups (one real node per machine: all of them are ours).
pod_pids() { find /sys/fs/cgroup/*/kubepods -name cgroup.procs -exec cat {} + 2> /dev/null | sort -u; }
shim_pids() { pgrep -f "containerd-shim-runc-v2 .*-address $(node_sock)( |$)" || true; }
for _ in 1 2 3 4 5; do
  pids="$(pod_pids) $(shim_pids)"
  [[ -n "${pids// /}" ]] || break
  # shellcheck disable=SC2086
  kill -KILL $pids 2> /dev/null
  sleep 0.2
done
cluster_stop_proc containerd
# shellcheck disable=SC2046
kill -KILL $(shim_pids) 2> /dev/null

# Mounts under STATE (container rootfs overlays, sandbox shm, pod volumes).
for _ in 1 2 3; do
  m="$(mounts_under "$STATE")"
  [[ -n "$m" ]] || break
  while read -r mp; do umount "$mp" 2> /dev/null || umount -l "$mp" 2> /dev/null; done <<< "$m"
done
# The pods' network namespaces (their veths go with them).
for nsf in /var/run/netns/*; do
  [[ -e "$nsf" ]] || continue
  ns="$(basename "$nsf")"
  grep -qxF "$ns" "$N/netns.before" 2> /dev/null && continue
  umount "/var/run/netns/$ns" 2> /dev/null || umount -l "/var/run/netns/$ns" 2> /dev/null
  rm -f "/var/run/netns/$ns"
done
for cg in /sys/fs/cgroup/*/kubepods; do
  [[ -d "$cg" ]] && find "$cg" -depth -type d -exec rmdir {} + 2> /dev/null
done

# kube-proxy's nftables tables and any KUBE-* iptables chain (jumps to them first).
for fam in ip ip6; do nft delete table "$fam" kube-proxy 2> /dev/null; done
for tool in iptables ip6tables; do
  while read -r table chain; do
    [[ -n "$chain" ]] || continue
    "$tool" -t "$table" -S | awk -v c="$chain" '$1 == "-A" && $0 ~ ("-j " c "( |$)") { $1 = "-D"; print }' |
      while read -r rule; do eval "$tool -t $table $rule" 2> /dev/null; done
    "$tool" -t "$table" -F "$chain" 2> /dev/null
    "$tool" -t "$table" -X "$chain" 2> /dev/null
  done < <(node_kube_chains "$tool")
done

left="$(mounts_under "$STATE")"
if [[ -n "$left" ]]; then echo "[down] node: mounts left under $STATE: $left" >&2; fi
say "stopped: pods, kubelet, kube-proxy, containerd, mounts, netns, cgroups, nft and iptables ($(cluster_since "$t0") s)"
