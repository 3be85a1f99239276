#!/usr/bin/env bash
# `make down`: stops the operator and every process the local control plane started (by pid), and
# removes .local/. Safe to run twice.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
local_dir="$root/.local"
pidfile="$local_dir/pids/operator.pid"
if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  pid="$(cat "$pidfile")"
  echo "[make down] stopping the operator (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
fi
for name in simulators demo-simulators mail-sink nats-server; do
  pf="$local_dir/pids/$name.pid"
  if [[ -f "$pf" ]] && kill -0 "$(cat "$pf")" 2>/dev/null; then
    echo "[make down] stopping $name (pid $(cat "$pf"))"
    kill -TERM "$(cat "$pf")"
    for _ in $(seq 1 25); do kill -0 "$(cat "$pf")" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$(cat "$pf")" 2>/dev/null && kill -KILL "$(cat "$pf")"
  fi
done
if [[ -d "$local_dir/cluster" ]]; then
  "$root/test/cluster/down.sh" "$local_dir/cluster"
fi
rm -rf "$local_dir"
echo "[make down] done"
