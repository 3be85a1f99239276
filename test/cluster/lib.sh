# shellcheck shell=bash
# Helpers shared by up.sh, down.sh and restart-apiserver.sh. Source it; it defines functions and a
# few variables only, and runs nothing. Every process these scripts start is launched through a
# symlink in STATE_DIR/bin, so its argv[0] names STATE_DIR: that is how a pid file is checked to
# still be ours before anything is signalled (a recycled pid is never killed).

cluster_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Prints the cached binary of COMPONENT (k8s, etcd, kwok, vault) exactly where build.sh puts it:
# the cache key is build.sh's key_of, duplicated here because build.sh must not be sourced.
cluster_cache_dir() { echo "${CLOUDCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudconnect-operator}/bin"; }
cluster_bin_path() {
  local component="$1" cache gover key
  cache="$(cluster_cache_dir)"
  gover="$(GOTOOLCHAIN=local go env GOVERSION)"
  [[ -d "$cluster_here/go/$component" ]] || { echo "unknown component: $component" >&2; return 2; }
  key="$( (cd "$cluster_here/go/$component" && cat go.mod go.sum ./*.go ldflags package 2>/dev/null; echo "$gover") | sha256sum | cut -c1-16)"
  echo "$cache/$component-$key/$component"
}

# Seconds since the epoch with microseconds, for the progress lines.
cluster_now() { echo "${EPOCHREALTIME/,/.}"; }
# Seconds elapsed since START (from cluster_now), one decimal.
cluster_since() { awk -v a="$1" -v b="$(cluster_now)" 'BEGIN { printf "%.1f", b - a }'; }

# pidfile NAME -> path; cmdfile NAME -> path; logfile NAME -> path (STATE must be set).
cluster_pidfile() { echo "$STATE/pids/$1.pid"; }
cluster_cmdfile() { echo "$STATE/cmd/$1"; }
cluster_logfile() { echo "$STATE/logs/$1.log"; }

# True when the pid in NAME's pid file is alive and is the process we started (its argv[0] is
# STATE/bin/<binary>, recorded as the first word of the command file).
cluster_proc_alive() {
  local name="$1" pidfile pid argv0 want
  pidfile="$(cluster_pidfile "$name")"
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  argv0="$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | head -n 1)" || return 1
  want="$(head -n 1 "$(cluster_cmdfile "$name").argv0" 2>/dev/null)" || return 1
  [[ -n "$argv0" && "$argv0" == "$want" ]] || return 1
  # A zombie is not alive.
  [[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]]
}

# Starts NAME in the background from the command line CMD... (first word is the binary's path in
# STATE/bin), in its own session so that a Ctrl-C or a killed process group of the caller does not
# take the cluster down with it. Output goes to logs/NAME.log, the pid to pids/NAME.pid, and the
# exact command line to cmd/NAME (shell-quoted, one line) so that it can be started again as is.
cluster_start_proc() {
  local name="$1"; shift
  mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/cmd"
  printf '%q ' "$@" | sed 's/ $//' > "$(cluster_cmdfile "$name")"
  echo >> "$(cluster_cmdfile "$name")"
  printf '%s\n' "$1" > "$(cluster_cmdfile "$name").argv0"
  cluster_launch "$name"
}

# Launches NAME from its recorded command line (cmd/NAME).
cluster_launch() {
  local name="$1" cmdline log pid
  cmdline="$(cat "$(cluster_cmdfile "$name")")"
  log="$(cluster_logfile "$name")"
  printf '\n===== %s start: %s\n' "$(date -u +%FT%TZ)" "$cmdline" >> "$log"
  # setsid (no fork: a background child of a non-interactive shell is not a group leader) keeps
  # the pid; exec replaces the subshell so the pid file holds the component's own pid.
  (
    cd "$STATE" || exit 1
    exec < /dev/null >> "$log" 2>&1
    eval "exec setsid $cmdline"
  ) &
  pid=$!
  echo "$pid" > "$(cluster_pidfile "$name")"
}

# Stops NAME if it is alive and ours: SIGTERM, up to 10 s, then SIGKILL. Removes its pid file.
cluster_stop_proc() {
  local name="$1" pid i
  local pidfile
  pidfile="$(cluster_pidfile "$name")"
  [[ -f "$pidfile" ]] || return 0
  if cluster_proc_alive "$name"; then
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      cluster_proc_alive "$name" || break
      sleep 0.1
    done
    if cluster_proc_alive "$name"; then
      echo "[stop] $name (pid $pid) ignored SIGTERM for 10 s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        cluster_proc_alive "$name" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$pidfile"
}

# Every process up.sh may start, in start order; stop in reverse. kwok runs the fake node of a
# default cluster; containerd, kubelet and kube-proxy the real node of a CLUSTER_NODE=real one.
cluster_procs=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok containerd kubelet kube-proxy vault)

# The processes this cluster started (those with a recorded command line), in start order.
cluster_started_procs() {
  local p
  for p in "${cluster_procs[@]}"; do
    if [[ -f "$(cluster_cmdfile "$p")" ]]; then echo "$p"; fi
  done
}

cluster_stop_all() {
  local i
  for ((i = ${#cluster_procs[@]} - 1; i >= 0; i--)); do
    cluster_stop_proc "${cluster_procs[i]}"
  done
}

# Prints the last lines of NAME's log, indented, to stderr.
cluster_log_tail() {
  local name="$1" log
  log="$(cluster_logfile "$name")"
  if [[ -f "$log" ]]; then
    echo "----- last 40 lines of $log -----" >&2
    tail -n 40 "$log" | sed 's/^/  | /' >&2
    echo "-----" >&2
  fi
}

# cluster_sign NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]: an ECDSA P-256 key and a
# certificate for it signed by the cluster CA, in $PKI (up.sh makes the CA; node-up.sh signs the
# node's certificates with it). Returns 1 with openssl's message on stderr when a step fails.
cluster_sign() {
  local name="$1" subj="$2" eku="$3" san="${4:-}" err="$PKI/openssl.err"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subj" 2> "$err" ||
    { cat "$err" >&2; return 1; }
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    if [[ -n "$san" ]]; then echo "subjectAltName=$san"; fi
  } > "$PKI/$name.ext"
  openssl x509 -req -sha256 -days 3650 -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2> "$err" ||
    { cat "$err" >&2; return 1; }
  rm -f "$PKI/$name.csr" "$PKI/$name.ext" "$err"
  chmod 600 "$PKI/$name.key"
}

# True when something accepts connections on 127.0.0.1:PORT.
cluster_port_busy() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
