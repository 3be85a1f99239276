#!/usr/bin/env bash
# Starts a real local control plane on 127.0.0.1 and writes all of its state under STATE_DIR:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (one fake node that runs
# pods) and a Vault dev server with KV v2, transit, a file audit device and Kubernetes auth that is
# proven to log in through a real TokenReview. Usage: up.sh STATE_DIR (absolute path).
# CLUSTER_NODE=real runs a real node instead of kwok (node-up.sh: kubelet, containerd, runc, CNI
# bridge, kube-proxy; needs root; one per machine), and Vault also listens on the node's address.
# Ports: CLUSTER_PORT_BASE (default 16000) + 379 etcd client, +380 etcd peer, +443 apiserver,
# +200 Vault. Then `source STATE_DIR/env`. Stop with down.sh STATE_DIR.
# CLUSTER_KEEP_ON_FAILURE=1 leaves the processes running when a step fails (for debugging).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$here/lib.sh"
# shellcheck source=node-lib.sh source-path=SCRIPTDIR
source "$here/node-lib.sh"

if [[ $# -ne 1 || "$1" != /* ]]; then
  echo "usage: $0 STATE_DIR (an absolute path; created if missing)" >&2
  exit 2
fi
STATE="${1%/}"
if ! [[ "$STATE" =~ ^/[A-Za-z0-9._/+-]+$ ]]; then
  echo "[up] STATE_DIR may hold only letters, digits and . _ / + - (got '$STATE')" >&2
  exit 2
fi
base="${CLUSTER_PORT_BASE:-16000}"
if ! [[ "$base" =~ ^[0-9]+$ ]] || ((base < 1024 || base > 65000)); then
  echo "[up] CLUSTER_PORT_BASE must be a number between 1024 and 65000 (got '$base')" >&2
  exit 2
fi
ETCD_PORT=$((base + 379))
ETCD_PEER_PORT=$((base + 380))
API_PORT=$((base + 443))
VAULT_PORT=$((base + 200))
# On a real node the apiserver listens on the node's address (not loopback) and publishes it as the
# endpoint of the default/kubernetes Service, so that pods (the chart's operator) reach it through
# kube-proxy at 10.0.0.1:443, as in a cluster. Everything else stays on loopback.
API_HOST=127.0.0.1
ENDPOINT_RECONCILER=none
if [[ "${CLUSTER_NODE:-kwok}" == real ]]; then API_HOST="$NODE_IP" ENDPOINT_RECONCILER=lease; fi
API_URL="https://$API_HOST:$API_PORT"
VAULT_URL="http://127.0.0.1:$VAULT_PORT"
BIN="$STATE/bin"
PKI="$STATE/pki"
SMOKE_NS=cloudconnect-smoke
NODE_MODE="${CLUSTER_NODE:-kwok}"
case "$NODE_MODE" in
  kwok) ;;
  real)
    if ((EUID != 0)); then echo "[up] CLUSTER_NODE=real needs root (a kubelet, containerd and a bridge)" >&2; exit 2; fi
    missing_tools="$(node_missing_tools)"
    if [[ -n "$missing_tools" ]]; then echo "[up] CLUSTER_NODE=real needs: $missing_tools (test/install-system-deps.sh installs them)" >&2; exit 2; fi
    ;;
  *) echo "[up] CLUSTER_NODE must be kwok or real (got '$NODE_MODE')" >&2; exit 2 ;;
esac

t_total="$(cluster_now)"
t_step="$t_total"
say() { printf '[up] %s\n' "$*"; }
# done_step MESSAGE: prints MESSAGE with the time since the previous step, starts the next one.
done_step() { say "$1 ($(cluster_since "$t_step") s)"; t_step="$(cluster_now)"; }

# kubectl's discovery cache goes inside STATE_DIR, not ~/.kube/cache (keyed by host:port, it would
# outlive this cluster and be read by the next one on the same port).
export KUBECACHEDIR="$STATE/kube-cache"
kc() { "$BIN/kubectl" --kubeconfig "$STATE/kubeconfig" "$@"; }
vlt() { VAULT_ADDR="$VAULT_URL" VAULT_TOKEN="${VAULT_TOKEN_OVERRIDE:-root}" "$BIN/vault" "$@"; }

# fail NAME MESSAGE: reports a failed step with the tail of NAME's log ("-" for none) and exits.
fail() {
  local name="$1"; shift
  echo "[up] ERROR: $*" >&2
  if [[ "$name" != - ]]; then cluster_log_tail "$name"; fi
  exit 1
}

# wait_for NAME TIMEOUT_S WHAT CMD...: polls CMD until it succeeds; fails early if process NAME
# ("-" for none) dies, and after TIMEOUT_S seconds.
wait_for() {
  local name="$1" timeout="$2" what="$3"; shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" > /dev/null 2>&1; do
    if [[ "$name" != - ]] && ! cluster_proc_alive "$name"; then
      fail "$name" "$name exited while waiting for $what (log: $(cluster_logfile "$name"))"
    fi
    if ((SECONDS >= deadline)); then
      fail "$name" "timed out after ${timeout} s waiting for $what"
    fi
    sleep 0.2
  done
}

apiserver_ready() { [[ "$(kc get --raw /readyz 2> /dev/null)" == ok ]]; }
vault_healthy() { curl -fsS --max-time 2 "$VAULT_URL/v1/sys/health" > /dev/null 2>&1; }

# ---------------------------------------------------------------------------------------------
# An existing state dir: already up (exit 0), partly dead (stop the rest, start fresh), or stale.
marker="$STATE/.cloudconnect-test-cluster"
if [[ -d "$STATE" && -n "$(ls -A "$STATE")" ]]; then
  if [[ ! -f "$marker" ]]; then
    fail - "$STATE exists, is not empty and was not made by up.sh: refusing to touch it"
  fi
  dead=()
  started=()
  mapfile -t started < <(cluster_started_procs)
  for p in "${started[@]}"; do cluster_proc_alive "$p" || dead+=("$p"); done
  if ((${#dead[@]} == 0 && ${#started[@]} > 0)) && apiserver_ready && vault_healthy &&
    [[ "$NODE_MODE" == "$(cat "$STATE/node-mode" 2> /dev/null || echo kwok)" ]]; then
    say "already up in $STATE (all ${#started[@]} processes alive, apiserver ready): nothing to do"
    say "source $STATE/env"
    exit 0
  fi
  if compgen -G "$STATE/pids/*.pid" > /dev/null; then
    say "previous cluster in $STATE is not healthy (not running: ${dead[*]:-none}): stopping the rest, starting fresh"
  fi
  if [[ -d "$STATE/node" ]]; then "$here/node-down.sh" "$STATE"; fi
  cluster_stop_all
  if [[ -d "$STATE/node" ]]; then "$here/node-down.sh" --finish "$STATE"; fi
  prev="$(mktemp -d)"
  if [[ -d "$STATE/logs" ]]; then mv "$STATE/logs" "$prev/logs"; fi
  rm -rf "$STATE"
  mkdir -p "$STATE/logs"
  if [[ -d "$prev/logs" ]]; then
    rm -rf "$prev/logs/previous"
    mv "$prev/logs" "$STATE/logs/previous"
    say "logs of the previous run kept in $STATE/logs/previous"
  fi
  rmdir "$prev"
  done_step "previous state in $STATE cleared"
fi
mkdir -p "$STATE"/{bin,pki,logs,pids,cmd,etcd,kwok,kube-controller-manager/flexvolume}
chmod 700 "$STATE/etcd" "$STATE/pki"
touch "$marker"
echo "$NODE_MODE" > "$STATE/node-mode"

busy=()
for port in "$ETCD_PORT" "$ETCD_PEER_PORT" "$API_PORT" "$VAULT_PORT"; do
  if cluster_port_busy "$port"; then busy+=("$port"); fi
done
if ((${#busy[@]})); then
  fail - "port(s) ${busy[*]} on 127.0.0.1 already in use (another cluster or process?). Stop it, or set CLUSTER_PORT_BASE (now $base) to another base."
fi

up_ok=0
on_exit() {
  if ((up_ok == 0)); then
    if [[ "${CLUSTER_KEEP_ON_FAILURE:-0}" == 1 ]]; then
      echo "[up] FAILED; CLUSTER_KEEP_ON_FAILURE=1: processes left running. Clean up with: $here/down.sh $STATE" >&2
    else
      echo "[up] FAILED: stopping what was started. Logs: $STATE/logs (remove with $here/down.sh $STATE)" >&2
      if [[ -d "$STATE/node" ]]; then "$here/node-down.sh" "$STATE"; fi
      cluster_stop_all
      if [[ -d "$STATE/node" ]]; then "$here/node-down.sh" --finish "$STATE"; fi
    fi
  fi
}
trap on_exit EXIT

# ---------------------------------------------------------------------------------------------
# Binaries: build.sh reuses its cache, so this is instant on a warm cache. The lock keeps two
# up.sh runs (say the integration tests and the benchmark) from building the same thing at once.
mkdir -p "$(cluster_cache_dir)"
flock "$(cluster_cache_dir)/.up-build.lock" "$here/build.sh" etcd kwok vault k8s
for c in etcd kwok vault k8s; do
  path="$(cluster_bin_path "$c")"
  [[ -x "$path" && -f "$(dirname "$path")/.complete" ]] || fail - "build.sh did not produce $path"
  ln -sfn "$path" "$BIN/$c"
done
for n in kube-apiserver kube-controller-manager kube-scheduler kubectl; do ln -sfn k8s "$BIN/$n"; done
done_step "binaries ready in $BIN"

# ---------------------------------------------------------------------------------------------
# PKI: a CA, the apiserver's serving cert, client certs (ECDSA P-256: fast to make), and the
# service-account token signing key pair (RSA 2048).
ossl() { openssl "$@" 2> "$PKI/openssl.err" || { cat "$PKI/openssl.err" >&2; fail - "openssl $1 failed"; }; }
ossl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 3650 -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
  -subj "/CN=cloudconnect-test-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
# sign NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES] (lib.sh)
sign() { cluster_sign "$@" || fail - "openssl could not sign the $1 certificate"; }
sign apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:$API_HOST,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
sign admin "/O=system:masters/CN=admin" clientAuth
sign kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
sign kube-scheduler "/CN=system:kube-scheduler" clientAuth
# The apiserver's client certificate towards kubelets (logs, exec, port-forward on a real node).
sign kube-apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" clientAuth
ossl genrsa -out "$PKI/sa.key" 2048
ossl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
rm -f "$PKI/openssl.err"
chmod 600 "$PKI"/*.key

# kubeconfig FILE USER: a kubeconfig for USER's client cert, with everything embedded.
kubeconfig() {
  local file="$1" user="$2"
  cat > "$file" << EOF
apiVersion: v1
kind: Config
clusters:
- name: cloudconnect-test
  cluster:
    server: $API_URL
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$user.crt")
    client-key-data: $(base64 -w0 < "$PKI/$user.key")
contexts:
- name: cloudconnect-test
  context:
    cluster: cloudconnect-test
    user: $user
current-context: cloudconnect-test
EOF
  chmod 600 "$file"
}
kubeconfig "$STATE/kubeconfig" admin
kubeconfig "$STATE/kube-controller-manager.kubeconfig" kube-controller-manager
kubeconfig "$STATE/kube-scheduler.kubeconfig" kube-scheduler
done_step "certificates and kubeconfigs written to $PKI"

# ---------------------------------------------------------------------------------------------
# Vault dev server: in-memory, unsealed, root token "root", KV v2 at secret/. It needs nothing from
# Kubernetes to start, so it starts first and comes up while the control plane does.
# With a real node, Vault also listens on the node's address (the bridge), where pods reach it.
vault_config=()
if [[ "$NODE_MODE" == real ]]; then
  node_claim_and_bridge || fail - "cannot set up the real node's bridge"
  printf 'listener "tcp" {\n  address = "%s:%s"\n  tls_disable = true\n}\n' "$NODE_IP" "$VAULT_PORT" > "$STATE/vault-node-listener.hcl"
  vault_config=(-config="$STATE/vault-node-listener.hcl")
fi
cluster_start_proc vault "$BIN/vault" server -dev \
  -dev-root-token-id=root \
  -dev-listen-address="127.0.0.1:$VAULT_PORT" \
  -dev-no-store-token "${vault_config[@]}"

# etcd: throwaway data, so fsync is off (much faster on slow disks).
cluster_start_proc etcd "$BIN/etcd" \
  --name=cloudconnect-test \
  --data-dir="$STATE/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="cloudconnect-test=http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster-state=new \
  --unsafe-no-fsync
etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
wait_for etcd 30 "etcd /health" etcd_healthy
done_step "etcd ready on 127.0.0.1:$ETCD_PORT"

# kube-apiserver. On loopback the endpoint reconciler is off: it would publish 127.0.0.1 as the endpoint of
# the default/kubernetes Service, which validation rejects (loopback), logging an error forever.
# --shutdown-send-retry-after: on SIGTERM it answers new requests 429 + Retry-After, drains, and
# closes open watches after 2 s; without it, open watches (the operator's) hold it up to 60 s.
# CLUSTER_AUDIT=1 writes an apiserver audit log (Metadata level, JSON lines) to
# $STATE/logs/kube-apiserver-audit.log: benchmarks count the operator's requests from it. Never
# rotated (maxsize in MB; 0 is not "unlimited" but the rotation library's default, 100 MB, which
# a 10,000-site run outgrows and the count then misses the rotated part).
audit_args=()
if [[ "${CLUSTER_AUDIT:-}" == "1" ]]; then
  cat > "$STATE/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
POLICY
  audit_args=(--audit-policy-file="$STATE/audit-policy.yaml" --audit-log-path="$STATE/logs/kube-apiserver-audit.log" --audit-log-format=json --audit-log-maxsize=1000000)
fi
cluster_start_proc kube-apiserver "$BIN/kube-apiserver" \
  "${audit_args[@]}" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address="$API_HOST" \
  --advertise-address="$API_HOST" \
  --secure-port="$API_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" \
  --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --allow-privileged=true \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NodeRestriction \
  --kubelet-client-certificate="$PKI/kube-apiserver-kubelet-client.crt" \
  --kubelet-client-key="$PKI/kube-apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$PKI/ca.crt" \
  --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --endpoint-reconciler-type="$ENDPOINT_RECONCILER" \
  --shutdown-send-retry-after=true
wait_for kube-apiserver 90 "kube-apiserver /readyz" apiserver_ready
done_step "kube-apiserver ready at $API_URL"

# The flex-volume dir is moved into STATE_DIR: by default it creates /usr/libexec/kubernetes/...
# A 1 s node monitor period lifts the new node's not-ready taint within a second of it being Ready.
cluster_start_proc kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
  --root-ca-file="$PKI/ca.crt" \
  --service-account-private-key-file="$PKI/sa.key" \
  --use-service-account-credentials=true \
  --cluster-signing-cert-file="$PKI/ca.crt" \
  --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --flex-volume-plugin-dir="$STATE/kube-controller-manager/flexvolume" \
  --node-monitor-period=1s \
  --leader-elect=false \
  --bind-address=127.0.0.1 \
  --secure-port=0
cluster_start_proc kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig="$STATE/kube-scheduler.kubeconfig" \
  --leader-elect=false \
  --bind-address=127.0.0.1 \
  --secure-port=0

start_kwok_node() {
# kwok runs the fake node. Stand-alone kwok has no built-in stages (kwokctl adds them), so write
# the default ones (node-initialize, node-heartbeat-with-lease, pod-ready/complete/delete) from the
# pinned kwok module's own files: pods become Running, Job pods Succeeded, deletions finish.
kwok_dir="$(cd "$here/go/kwok" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)" ||
  fail - "cannot find the kwok module's source (go list -m sigs.k8s.io/kwok in $here/go/kwok)"
{
  first=1
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [[ -f "$kwok_dir/kustomize/stage/$f" ]] || fail - "kwok stage $kwok_dir/kustomize/stage/$f missing"
    if ((first == 0)); then echo "---"; fi
    first=0
    if [[ "$f" == pod/fast/pod-complete.yaml ]]; then
      # Tests play the kubelet for pods that select the label below: kwok does not complete those,
      # so a test can write a real termination message into the pod status itself.
      awk '{ print } /^      - .Job.$/ && !done { print "    - key: \x27.spec.nodeSelector[\"cloudconnect.dev/kubelet-stand-in\"]\x27"; print "      operator: \x27DoesNotExist\x27"; done = 1 }' \
        "$kwok_dir/kustomize/stage/$f"
    else
      cat "$kwok_dir/kustomize/stage/$f"
    fi
  done
} > "$STATE/kwok/kwok.yaml"
cluster_start_proc kwok "$BIN/kwok" \
  --config="$STATE/kwok/kwok.yaml" \
  --kubeconfig="$STATE/kubeconfig" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr=10.244.0.0/16 \
  --node-ip=127.0.0.1 \
  --node-lease-duration-seconds=40

kc apply -f - > /dev/null << 'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    cloudconnect.dev/kubelet-stand-in: "test"
spec: {}
status:
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "110"
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "110"
EOF
node_ready() {
  [[ "$(kc get node kwok-node-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
wait_for kwok 60 "node kwok-node-0 Ready (kwok)" node_ready
# The node lifecycle controller taints a new node not-ready until it sees it Ready; wait for that
# taint to go, so that the node is schedulable with no taints at all.
node_untainted() { [[ -z "$(kc get node kwok-node-0 -o jsonpath='{.spec.taints}')" ]]; }
wait_for kube-controller-manager 60 "node kwok-node-0 to lose its taints" node_untainted
done_step "kwok node kwok-node-0 Ready, no taints"
}

if [[ "$NODE_MODE" == kwok ]]; then
  start_kwok_node
else
  "$here/node-up.sh" "$STATE" "$API_URL" || fail - "the real node did not come up (logs: $STATE/logs)"
  done_step "real node $NODE_NAME Ready"
fi

# The smoke pod: kwok "runs" any image; the real node runs the locally built pause image.
smoke_container() {
  if [[ "$NODE_MODE" == real ]]; then
    printf '    image: %s\n    imagePullPolicy: Never\n' "$(cat "$STATE/node/pause-image")"
  else
    printf '    image: busybox\n    command: ["sleep", "3600"]\n'
  fi
}
smoke_node="$([[ "$NODE_MODE" == real ]] && echo "$NODE_NAME" || echo kwok-node-0)"

default_sa() { kc get serviceaccount default -n default; }
wait_for kube-controller-manager 60 "ServiceAccount default/default (kube-controller-manager)" default_sa
for p in kube-controller-manager kube-scheduler; do
  cluster_proc_alive "$p" || fail "$p" "$p exited"
done
done_step "kube-controller-manager working (default ServiceAccount exists)"

# ---------------------------------------------------------------------------------------------
# Vault (started above, before etcd) must be up by now.
wait_for vault 60 "Vault $VAULT_URL/v1/sys/health" vault_healthy
kv_version="$(vlt secrets list -format=json | jq -r '."secret/".options.version // empty')"
[[ "$kv_version" == 2 ]] || fail vault "expected KV v2 at secret/ in dev mode, got version '${kv_version}'"
vlt secrets enable transit > /dev/null
vlt audit enable file file_path="$STATE/vault-audit.log" > /dev/null
done_step "Vault ready at $VAULT_URL (KV v2 at secret/, transit, audit log $STATE/vault-audit.log)"

# Kubernetes auth: Vault reviews service-account tokens with its own long-lived reviewer token.
kc create serviceaccount vault-token-reviewer -n kube-system > /dev/null
kc create clusterrolebinding vault-token-reviewer --clusterrole=system:auth-delegator \
  --serviceaccount=kube-system:vault-token-reviewer > /dev/null
kc create token vault-token-reviewer -n kube-system --duration=87600h > "$STATE/vault-token-reviewer.jwt"
chmod 600 "$STATE/vault-token-reviewer.jwt"
vlt auth enable kubernetes > /dev/null
vlt write auth/kubernetes/config kubernetes_host="$API_URL" kubernetes_ca_cert="@$PKI/ca.crt" \
  token_reviewer_jwt="@$STATE/vault-token-reviewer.jwt" disable_local_ca_jwt=true > /dev/null
done_step "Vault Kubernetes auth configured at auth/kubernetes"

# Smoke test, end to end: a pod is scheduled and Running on the kwok node (scheduler + kwok), and a
# service-account token logs in to Vault (a real TokenReview) and reads a secret with its policy.
kc create namespace "$SMOKE_NS" > /dev/null
kc create serviceaccount smoke -n "$SMOKE_NS" > /dev/null
kc apply -f - > /dev/null << EOF
apiVersion: v1
kind: Pod
metadata:
  name: smoke
  namespace: $SMOKE_NS
spec:
  serviceAccountName: smoke
  automountServiceAccountToken: false
  containers:
  - name: smoke
$(smoke_container)
EOF
pod_running() { [[ "$(kc get pod smoke -n "$SMOKE_NS" -o jsonpath='{.status.phase}')" == Running ]]; }
wait_for kube-scheduler 60 "smoke pod scheduled and Running on $smoke_node" pod_running
vlt policy write smoke - > /dev/null <<< 'path "secret/data/smoke/*" { capabilities = ["read"] }'
vlt write auth/kubernetes/role/smoke bound_service_account_names=smoke \
  bound_service_account_namespaces="$SMOKE_NS" audience=vault token_policies=smoke ttl=10m > /dev/null
vlt kv put secret/smoke/hello value=world > /dev/null
smoke_jwt="$(kc create token smoke -n "$SMOKE_NS" --audience=vault)"
if ! login_token="$(vlt write -field=token auth/kubernetes/login role=smoke jwt="$smoke_jwt" 2> "$STATE/logs/smoke-login.err")"; then
  cat "$STATE/logs/smoke-login.err" >&2
  fail vault "Vault Kubernetes login (TokenReview) failed for $SMOKE_NS/smoke"
fi
got="$(VAULT_TOKEN_OVERRIDE="$login_token" vlt kv get -field=value secret/smoke/hello)" ||
  fail vault "the smoke login's token could not read secret/smoke/hello"
[[ "$got" == world ]] || fail vault "secret/smoke/hello read '$got', expected 'world'"
rm -f "$STATE/logs/smoke-login.err"
# Clean up: the namespace goes (not waited for), and so do the smoke role, policy and secret.
kc delete namespace "$SMOKE_NS" --wait=false > /dev/null
vlt delete auth/kubernetes/role/smoke > /dev/null
vlt policy delete smoke > /dev/null
vlt kv metadata delete secret/smoke/hello > /dev/null
done_step "smoke test passed: pod Running on $smoke_node; Vault login via TokenReview read a secret"

# ---------------------------------------------------------------------------------------------
cat > "$STATE/env" << EOF
# Source this file to use the test cluster in $STATE (written by test/cluster/up.sh).
export CLUSTER_STATE_DIR="$STATE"
export KUBECONFIG="$STATE/kubeconfig"
export KUBE_APISERVER_URL="$API_URL"
export KUBE_CA_FILE="$PKI/ca.crt"
export KUBECACHEDIR="$STATE/kube-cache"
export VAULT_ADDR="$VAULT_URL"
export VAULT_TOKEN="root"
export VAULT_K8S_AUTH_MOUNT="kubernetes"
export VAULT_AUDIT_LOG="$STATE/vault-audit.log"
export ETCD_ENDPOINT="http://127.0.0.1:$ETCD_PORT"
export CLUSTER_NODE="$NODE_MODE"
$(if [[ "$NODE_MODE" == real ]]; then printf 'export CLUSTER_NODE_NAME="%s"\nexport CLUSTER_NODE_IP="%s"\nexport VAULT_NODE_ADDR="http://%s:%s"\nexport CONTAINERD_ADDRESS="%s"\n' "$NODE_NAME" "$NODE_IP" "$NODE_IP" "$VAULT_PORT" "$(node_sock)"; fi)
export PATH="$BIN:\$PATH"
EOF

up_ok=1
say "cluster up in $(cluster_since "$t_total") s total: source $STATE/env (stop with $here/down.sh $STATE)"
