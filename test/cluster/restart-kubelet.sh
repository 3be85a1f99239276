#!/usr/bin/env bash
# Stops the real node's kubelet (CLUSTER_NODE=real) and starts it again with the command line
# node-up.sh recorded, then waits for its /healthz. Pods and containerd keep running, as when a
# kubelet restarts on a real node. Usage: restart-kubelet.sh STATE_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
STATE="${1:?usage: restart-kubelet.sh STATE_DIR}"
[[ -f "$(cluster_cmdfile kubelet)" ]] || { echo "[restart] $STATE has no real node (no cmd/kubelet)" >&2; exit 1; }
t0="$(cluster_now)"
cluster_stop_proc kubelet
cluster_launch kubelet
for _ in $(seq 1 300); do
  curl -fsS --max-time 1 http://127.0.0.1:10248/healthz > /dev/null 2>&1 && break
  cluster_proc_alive kubelet || { cluster_log_tail kubelet; exit 1; }
  sleep 0.2
done
curl -fsS --max-time 1 http://127.0.0.1:10248/healthz > /dev/null || { echo "[restart] kubelet not healthy after 60 s" >&2; exit 1; }
echo "[restart] kubelet restarted ($(cluster_since "$t0") s)"
