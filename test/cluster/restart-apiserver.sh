#!/usr/bin/env bash
# Stops kube-apiserver of the test cluster in STATE_DIR and starts it again with the exact command
# line up.sh recorded (STATE_DIR/cmd/kube-apiserver), then waits until /readyz is ok.
# Everything else (etcd, controllers, kwok, Vault) keeps running. Usage: restart-apiserver.sh STATE_DIR
# RESTART_DOWNTIME_S (default 0) waits that long between stop and start.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

if [[ $# -ne 1 || "$1" != /* ]]; then
  echo "usage: $0 STATE_DIR (absolute path)" >&2
  exit 2
fi
STATE="${1%/}"
name=kube-apiserver
[[ -f "$(cluster_cmdfile "$name")" ]] || { echo "[restart] no $STATE/cmd/$name: not a cluster made by up.sh" >&2; exit 1; }
t0="$(cluster_now)"

if cluster_proc_alive "$name"; then
  cluster_stop_proc "$name"
  echo "[restart] $name stopped ($(cluster_since "$t0") s)"
else
  echo "[restart] $name was not running"
fi
sleep "${RESTART_DOWNTIME_S:-0}"

t1="$(cluster_now)"
cluster_launch "$name"
export KUBECACHEDIR="$STATE/kube-cache"
ready() { [[ "$("$STATE/bin/kubectl" --kubeconfig "$STATE/kubeconfig" get --raw /readyz 2> /dev/null)" == ok ]]; }
deadline=$((SECONDS + 90))
until ready; do
  if ! cluster_proc_alive "$name"; then
    echo "[restart] ERROR: $name exited after restart" >&2
    cluster_log_tail "$name"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "[restart] ERROR: $name not ready 90 s after restart" >&2
    cluster_log_tail "$name"
    exit 1
  fi
  sleep 0.2
done
echo "[restart] $name ready again ($(cluster_since "$t1") s after start, $(cluster_since "$t0") s in all)"
