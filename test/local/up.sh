#!/usr/bin/env bash
# `make up`: the whole thing, locally. Builds or reuses the control plane binaries, starts etcd,
# kube-apiserver, controller-manager, scheduler, kwok and Vault (test/cluster/up.sh), installs the
# CRDs, the Helm chart's ServiceAccount and RBAC and its support-site admission policy (support
# members may only set cloudconnect.dev/requestedAt), (re)starts the operator authenticated as that
# ServiceAccount (not as cluster admin), applies examples/ and prints `kubectl get cloudconnect -A`.
# Safe to re-run: a running control plane is reused, the operator is restarted with current code.
#
# CLOUDCONNECT_USE_CURRENT_CLUSTER=1 uses the cluster $KUBECONFIG points at (and $VAULT_ADDR /
# $VAULT_TOKEN) instead of starting a local control plane.
#
# The local cluster has a REAL node (CLUSTER_NODE=real, the default: kubelet + containerd + runc,
# test/cluster/node-up.sh; needs root): the project's image is built here (test/image/build.sh) and
# imported into the node, and sync and relay pods run it. Vault, nats-server and the simulators also
# listen on the node's address, where the pods reach them. CLUSTER_NODE=kwok keeps the fake node
# (nothing runs; for a machine without root).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
local_dir="$root/.local"
state="$local_dir/cluster"
mkdir -p "$local_dir"/{logs,pids,bin}
start=$SECONDS
log() { printf '[make up %3ds] %s\n' "$((SECONDS - start))" "$*"; }

if [[ "${CLOUDCONNECT_USE_CURRENT_CLUSTER:-}" == "1" ]]; then
  : "${KUBECONFIG:?CLOUDCONNECT_USE_CURRENT_CLUSTER=1 needs KUBECONFIG}"
  : "${VAULT_ADDR:?CLOUDCONNECT_USE_CURRENT_CLUSTER=1 needs VAULT_ADDR and VAULT_TOKEN}"
  log "using the current cluster from KUBECONFIG=$KUBECONFIG"
  cp "$KUBECONFIG" "$local_dir/kubeconfig"
  vault_addr="$VAULT_ADDR"; vault_token="${VAULT_TOKEN:?}"
  kubectl_bin="$(command -v kubectl)"
else
  export CLUSTER_NODE="${CLUSTER_NODE:-real}"
  log "starting the local control plane ($CLUSTER_NODE node) and Vault (first run builds binaries: many minutes)"
  "$root/test/cluster/up.sh" "$state"
  # shellcheck disable=SC1091
  vault_addr="$(source "$state/env" && echo "$VAULT_ADDR")"
  vault_token="$(source "$state/env" && echo "$VAULT_TOKEN")"
  for f in "$state"/bin/*; do ln -sfn "$f" "$local_dir/bin/$(basename "$f")"; done
  cp "$state/kubeconfig" "$local_dir/kubeconfig"
  kubectl_bin="$local_dir/bin/kubectl"
fi
# cluster_var NAME: a variable of the local cluster's env file ('' without one).
cluster_var() {
  [[ -f "$state/env" ]] || return 0
  # shellcheck disable=SC1091
  (source "$state/env" && printenv "$1") || true
}
node_ip="$(cluster_var CLUSTER_NODE_IP)"
# Where pods reach what runs on this host: the real node's address, or loopback (kwok runs nothing).
host_ip="${node_ip:-127.0.0.1}"
worker_env=()
if [[ -n "$node_ip" ]]; then
  log "building the project's image (cached by content; test/image/build.sh) and importing it into the node's containerd"
  image_line="$("$root/test/image/build.sh" | tail -n 1)"
  image="$(sed -n 's/.*IMAGE=\([^ ]*\).*/\1/p' <<<"$image_line")"
  image_tar="$(sed -n 's/.*TAR=\([^ ]*\).*/\1/p' <<<"$image_line")"
  "$root/test/image/import.sh" "$image_tar" "$(cluster_var CONTAINERD_ADDRESS)"
  worker_env=(WORKER_IMAGE="$image" WORKER_VAULT_ADDR="$(cluster_var VAULT_NODE_ADDR)")
  log "sync and relay pods run $image on node $(cluster_var CLUSTER_NODE_NAME) ($node_ip)"
fi
export KUBECONFIG="$local_dir/kubeconfig"
k() { "$kubectl_bin" "$@"; }

log "installing the CRDs"
k apply --server-side --force-conflicts --field-manager=cloudconnect-make-up -f "$root/crds" >/dev/null
k wait --for=condition=Established --timeout=60s -f "$root/crds" >/dev/null
k create namespace cloudconnect-system --dry-run=client -o yaml | k apply -f - >/dev/null

# The operator runs as the Helm chart's ServiceAccount with exactly the chart's RBAC, not as cluster
# admin: a verb missing from charts/cloudconnect-operator fails here as it would in a cluster.
log "applying the chart's ServiceAccount, RBAC and support-site admission policy; the operator gets a token for that account"
"$root/test/cluster/build.sh" helm >/dev/null  # cached after the first build
helm_bin="$("$root/test/cluster/bin-path.sh" helm)"
ln -sfn "$helm_bin" "$local_dir/bin/helm"
operator_sa=cloudconnect-operator
"$helm_bin" template "$operator_sa" "$root/charts/cloudconnect-operator" --namespace cloudconnect-system \
  --show-only templates/serviceaccount.yaml --show-only templates/clusterrole.yaml --show-only templates/role-leader-election.yaml \
  --show-only templates/support-admission-policy.yaml |
  k apply --server-side --force-conflicts --field-manager=cloudconnect-make-up -f - >/dev/null
# A TokenRequest (kubectl create token): bound to the ServiceAccount, valid for a week; make up renews it.
operator_token="$(k create token "$operator_sa" --namespace cloudconnect-system --duration=168h)"
operator_kubeconfig="$local_dir/operator.kubeconfig"
api_server="$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
api_ca="$(k config view --raw --minify --flatten -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
(umask 077; cat >"$operator_kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: $api_server
      certificate-authority-data: $api_ca
users:
  - name: $operator_sa
    user:
      token: $operator_token
contexts:
  - name: $operator_sa
    context: {cluster: local, user: $operator_sa, namespace: cloudconnect-system}
current-context: $operator_sa
KUBECONFIG
)
# (auth whoami needs Kubernetes 1.28+; on an older current cluster only the message is lost.)
whoami="$("$kubectl_bin" --kubeconfig "$operator_kubeconfig" auth whoami -o jsonpath='{.status.userInfo.username}' 2>/dev/null ||
  echo "system:serviceaccount:cloudconnect-system:$operator_sa")"
log "the operator will authenticate as $whoami (kubeconfig: .local/operator.kubeconfig)"

# Background helpers that make up owns: the EMR/Ocean simulators and a local SMTP sink.
start_helper() { # name, command...
  local name="$1"; shift
  local pf="$local_dir/pids/$name.pid"
  if [[ -f "$pf" ]] && kill -0 "$(cat "$pf")" 2>/dev/null; then return 0; fi
  # `;` not `&&`: the `&` must apply to the program itself so that $! is its pid.
  (cd "$root"; nohup "$@" >"$local_dir/logs/$name.log" 2>&1 & echo $! >"$pf")
}
log "starting the EMR and Ocean simulators and the SMTP sink"
start_helper simulators "$root/node_modules/.bin/node" test/simulators/main.ts \
  --oscar-port 18101 --accuro-port 18102 --fhir-port 18103 --telus-port 18104 --ocean-port 18105
start_helper mail-sink "$root/node_modules/.bin/node" test/local/mail-sink.ts "$local_dir/mail" 12525
for _ in $(seq 1 100); do grep -q '^READY' "$local_dir/logs/simulators.log" 2>/dev/null && break; sleep 0.2; done
grep -q '^READY' "$local_dir/logs/simulators.log" || { echo "the simulators did not start; see .local/logs/simulators.log" >&2; exit 1; }

# The relay's durable queue: a real nats-server with JetStream (pinned build, test/cluster/go/nats-server),
# with authentication on as in the chart: a trust chain made once by operator/cmd/nats-setup (kept in
# .local/nats/auth across runs, so the stored streams and the relays' users stay valid); the operator
# gets the account and its signing key. Loopback only, so no TLS here (the chart documents TLS).
nats_port="${NATS_PORT:-14222}"
log "starting nats-server with JetStream and JWT authentication on $host_ip:$nats_port (the relay queue)"
"$root/test/cluster/build.sh" nats-server >/dev/null  # cached after the first build
ln -sfn "$("$root/test/cluster/bin-path.sh" nats-server)" "$local_dir/bin/nats-server"
mkdir -p "$local_dir/nats/store"
[ -f "$local_dir/nats/auth/auth.conf" ] ||
  (cd "$root" && "$root/node_modules/.bin/node" operator/cmd/nats-setup/main.ts --out "$local_dir/nats/auth" --storage 6Gi >/dev/null)
nats_account="$(cat "$local_dir/nats/auth/account")"
# Referral PDFs need more than nats-server's default 1 MiB message limit.
cat >"$local_dir/nats/nats.conf" <<NATS
listen: $host_ip:$nats_port
max_payload: 8MB
jetstream { store_dir: "$local_dir/nats/store" }
include ./auth/auth.conf
NATS
start_helper nats-server "$local_dir/bin/nats-server" -c "$local_dir/nats/nats.conf"
for _ in $(seq 1 100); do grep -q 'Server is ready' "$local_dir/logs/nats-server.log" 2>/dev/null && break; sleep 0.2; done
grep -q 'Server is ready' "$local_dir/logs/nats-server.log" || { echo "nats-server did not start; see .local/logs/nats-server.log" >&2; exit 1; }

# Vault: in the local cluster the operator logs in with kubernetes auth as role cloudconnect-operator,
# holding exactly the policy the chart's NOTES.txt tells an administrator to write (both come from
# operator/internal/vault/policies.ts), never the root token; sync and relay pods log in as the one
# templated role cloudconnect-sync. So a person reading a key with the token in .local/env is someone
# else to the operator: the Clinical Administrator is told. On a current cluster
# (CLOUDCONNECT_USE_CURRENT_CLUSTER=1) the operator uses the VAULT_TOKEN it was given.
vault_put() { # PATH JSON: an administrator's write, with the token make up holds
  curl -fsS -X PUT -H "X-Vault-Token: $vault_token" "$vault_addr/v1/$1" -d "$2" >/dev/null
}
operator_vault_env=(VAULT_TOKEN="$vault_token")
if [[ "${CLOUDCONNECT_USE_CURRENT_CLUSTER:-}" != "1" ]]; then
  log "writing the chart's Vault policies and roles (the operator's, and the sites' templated sync role)"
  "$root/node_modules/.bin/node" "$root/test/cluster/vault-setup.ts" "$state" "$local_dir/operator-vault-token" >/dev/null
  operator_vault_env=(VAULT_ROLE=cloudconnect-operator VAULT_AUTH_MOUNT=kubernetes VAULT_SYNC_ROLE=cloudconnect-sync
    VAULT_SA_TOKEN_FILE="$local_dir/operator-vault-token")
fi

metrics_port="${OPERATOR_METRICS_PORT:-18080}"
# Vault (on this host) reaches the operator through a unix socket only this user can open (a TCP port
# on loopback would take lines from any local process); after a restart the operator catches up from
# Vault's file audit log, keeping its position in .local/audit/.
audit_dir="$local_dir/audit"
mkdir -p "$audit_dir" && chmod 700 "$audit_dir"
audit_socket="$audit_dir/vault.sock"
audit_env=(AUDIT_LISTEN_ADDRESS="unix:$audit_socket" AUDIT_STATE_FILE="$audit_dir/state.json")
if [[ -f "$state/vault-audit.log" ]]; then audit_env+=(AUDIT_LOG_FILE="$state/vault-audit.log"); fi
pidfile="$local_dir/pids/operator.pid"
if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  log "restarting the operator (pid $(cat "$pidfile")) with the current code"
  kill -TERM "$(cat "$pidfile")"
  for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
fi
# demo: its simulators start first, so that the operator can hand their CA to the sync pods (OCEAN_CA_BUNDLE).
log "starting the demo simulators (https, a demo CA) on $host_ip"
"$root/node_modules/.bin/node" "$root/test/local/demo/up.ts" --host "$host_ip" --local "$local_dir" --simulators-only
log "starting the operator (logs: .local/logs/operator.log)"
(
  cd "$root"
  env KUBECONFIG="$operator_kubeconfig" VAULT_ADDR="$vault_addr" "${operator_vault_env[@]}" \
    METRICS_BIND_ADDRESS="127.0.0.1:$metrics_port" LEADER_ELECT=true LEASE_NAMESPACE=cloudconnect-system \
    "${audit_env[@]}" SMTP_HOST=127.0.0.1 SMTP_PORT=12525 SMTP_FROM=cloudconnect@localhost \
    POD_NAME="local-$(hostname)" NATS_URL="nats://$host_ip:$nats_port" \
    EGRESS_ALLOW_CIDRS="127.0.0.0/8${node_ip:+,$node_ip/32}" "${worker_env[@]}" \
    OCEAN_API_URL="https://$host_ip:18205" OCEAN_CA_BUNDLE="$(cat "$local_dir/demo/ca.crt")" \
    NATS_ACCOUNT="$nats_account" NATS_ACCOUNT_SIGNING_KEY_FILE="$local_dir/nats/auth/signing-key" \
    nohup "$root/node_modules/.bin/node" operator/main.ts >>"$local_dir/logs/operator.log" 2>&1 &
  echo $! >"$pidfile"
)
for i in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "the operator exited; last lines of .local/logs/operator.log:" >&2
    tail -n 20 "$local_dir/logs/operator.log" >&2
    exit 1
  fi
  if ((i == 150)); then echo "the operator did not become ready in 30 s" >&2; exit 1; fi
  sleep 0.2
done
log "operator ready: http://127.0.0.1:$metrics_port/metrics"
# Every access to an SEK reaches the operator through Vault's socket audit device (the file device
# stays as well: Vault refuses requests only when every audit device fails).
if ! curl -fsS -H "X-Vault-Token: $vault_token" "$vault_addr/v1/sys/audit" | grep -qF "\"address\":\"$audit_socket\""; then
  curl -fsS -X DELETE -H "X-Vault-Token: $vault_token" "$vault_addr/v1/sys/audit/cloudconnect-operator" >/dev/null 2>&1 || true
  vault_put sys/audit/cloudconnect-operator \
    "{\"type\":\"socket\",\"options\":{\"address\":\"$audit_socket\",\"socket_type\":\"unix\",\"hmac_accessor\":\"false\"}}" \
    || echo "warning: could not enable the Vault audit socket device" >&2
fi

# `kubectl cloudconnect …` works after `. .local/env` (the launcher runs the plugin with this checkout's Node 24).
ln -sfn "$root/operator/cmd/plugin/kubectl-cloudconnect" "$local_dir/bin/kubectl-cloudconnect"

log "applying examples/"
k apply -R -f "$root/examples" >/dev/null

cat >"$local_dir/env" <<ENV
# Source me: . .local/env
export KUBECONFIG="$local_dir/kubeconfig"
export VAULT_ADDR="$vault_addr"
export VAULT_TOKEN="$vault_token"
export METRICS_URL="http://127.0.0.1:$metrics_port/metrics"
export PATH="$local_dir/bin:\$PATH"
# The EMR and Ocean simulators (test doubles of the remote SaaS) and the SMTP sink (.local/mail/):
$(grep -E '^[A-Z_]+=' "$local_dir/logs/simulators.log" | grep -v '^READY=' | sed 's/^/export /')
export SMTP_SINK="127.0.0.1:12525"
export NATS_URL="nats://$host_ip:$nats_port"
ENV

# demo: https simulators with a CA made at start, the demo clinic (one integration per EMR type, in
# demo-clinic), a few messages from the simulated Ocean to each relay, and the summary
# (test/local/demo/README.md). They listen on $host_ip, where pods reach this host; OCEAN_API_URL above is theirs.
"$root/node_modules/.bin/node" "$root/test/local/demo/up.ts" --host "$host_ip" --local "$local_dir" \
  --elapsed "$((SECONDS - start))" || echo "warning: the demo did not come up; see above and .local/logs/demo-simulators.log" >&2

sleep 2
k get cloudconnect -A
log "done in $((SECONDS - start)) s. Next: . .local/env && kubectl get cloudconnect -A; make down stops everything."
