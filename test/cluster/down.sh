#!/usr/bin/env bash
# Stops the test cluster that up.sh started in STATE_DIR and removes STATE_DIR.
# Usage: down.sh [--keep-logs] STATE_DIR
# Only processes whose pid file is in STATE_DIR and whose command line is the one up.sh recorded
# are signalled (SIGTERM, up to 10 s, then SIGKILL), in reverse start order. Safe to run twice.
# --keep-logs keeps STATE_DIR/logs (and the vault audit log, moved into it); the rest goes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"

keep_logs=0
args=()
for a in "$@"; do
  case "$a" in
    --keep-logs) keep_logs=1 ;;
    -*) echo "unknown option $a" >&2; exit 2 ;;
    *) args+=("$a") ;;
  esac
done
if [[ ${#args[@]} -ne 1 || "${args[0]}" != /* ]]; then
  echo "usage: $0 [--keep-logs] STATE_DIR (absolute path)" >&2
  exit 2
fi
STATE="${args[0]%/}"
t0="$(cluster_now)"

if [[ ! -e "$STATE" ]]; then
  echo "[down] $STATE does not exist: nothing to do"
  exit 0
fi
if [[ ! -f "$STATE/.cloudconnect-test-cluster" ]]; then
  echo "[down] $STATE was not made by up.sh (no .cloudconnect-test-cluster marker): refusing to touch it" >&2
  exit 1
fi

# The real node first: its pods, mounts, network and the host state it changed.
if [[ -d "$STATE/node" ]]; then "$here/node-down.sh" "$STATE"; fi

for ((i = ${#cluster_procs[@]} - 1; i >= 0; i--)); do
  name="${cluster_procs[i]}"
  pidfile="$(cluster_pidfile "$name")"
  [[ -f "$pidfile" ]] || continue
  if cluster_proc_alive "$name"; then
    t="$(cluster_now)"
    cluster_stop_proc "$name"
    echo "[down] $name stopped ($(cluster_since "$t") s)"
  else
    echo "[down] $name was not running"
    rm -f "$pidfile"
  fi
done

if [[ -d "$STATE/node" ]]; then "$here/node-down.sh" --finish "$STATE"; fi

# Never remove a tree that still has something mounted in it (rm -rf would reach into the mount).
if awk -v p="$STATE/" 'index($5, p) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  echo "[down] something is still mounted under $STATE (see /proc/self/mountinfo): not removing it" >&2
  exit 1
fi
if ((keep_logs)); then
  if [[ -f "$STATE/vault-audit.log" && -d "$STATE/logs" ]]; then mv "$STATE/vault-audit.log" "$STATE/logs/"; fi
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs ! -name .cloudconnect-test-cluster -exec rm -rf {} +
  echo "[down] removed $STATE except its logs ($STATE/logs) in $(cluster_since "$t0") s"
else
  rm -rf "$STATE"
  echo "[down] removed $STATE in $(cluster_since "$t0") s"
fi
