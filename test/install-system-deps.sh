#!/usr/bin/env bash
# Installs the system tools the tests use that a new machine of this kind lacks. Go, openssl, curl
# and make are part of the machine; nothing is installed when everything is already present.
# From Debian: prometheus (promtool for the alert rule tests, and the server for the dashboard
# end-to-end test), lua5.4 (the Argo CD health check is Lua) and shellcheck (actionlint runs it on
# the users' CI workflow), umoci (packs the project's OCI images without a Docker engine: test/image/build.sh),
# and the real node's parts (test/cluster/node-up.sh): containerd, runc, the CNI plugins, iptables,
# nftables (kube-proxy's nftables mode runs `nft`) and conntrack.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v promtool >/dev/null || need+=(prometheus)
command -v lua5.4 >/dev/null || need+=(lua5.4)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v umoci >/dev/null || need+=(umoci)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[[ -x /usr/lib/cni/bridge ]] || need+=(containernetworking-plugins)
command -v iptables >/dev/null || need+=(iptables)
command -v nft >/dev/null || need+=(nftables)
command -v conntrack >/dev/null || need+=(conntrack)
if ((${#need[@]} > 0)); then
  echo "[deps] installing ${need[*]} from Debian (apt-get; a minute or two)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  echo "[deps] installed ${need[*]}"
else
  echo "[deps] system tools present (openssl, curl, promtool, lua5.4, shellcheck, umoci, containerd, runc, CNI plugins, iptables, nft, conntrack)"
fi
command -v go >/dev/null || { echo "[deps] Go is required to build the local control plane" >&2; exit 1; }
