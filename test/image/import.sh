#!/usr/bin/env bash
# Imports an image tarball that test/image/build.sh wrote into containerd's k8s.io namespace (the
# one the kubelet's CRI reads), so that pods use it with imagePullPolicy IfNotPresent or Never.
# Nothing is imported when every name in the tarball (<name>:<key> and <name>:dev) is already there
# with the same manifest digest. Usage: import.sh TAR CONTAINERD_SOCKET
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
node_bin="$here/../../node_modules/node/bin/node"
if [[ $# -ne 2 ]]; then echo "usage: $0 TAR CONTAINERD_SOCKET" >&2; exit 2; fi
tarball="$1" sock="$2"
[[ -f "$tarball" ]] || { echo "no such image tarball: $tarball" >&2; exit 1; }
[[ -S "$sock" ]] || { echo "no containerd socket at $sock" >&2; exit 1; }
log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
ctr_k8s() { ctr --address "$sock" --namespace k8s.io "$@"; }

# "name digest" for every image named in the tarball's index.json (io.containerd.image.name).
wanted() {
  # shellcheck disable=SC2016 # JavaScript: its ${} are template literals, not shell expansions
  tar -xOf "$tarball" ./index.json | "$node_bin" -e '
    let text = "";
    process.stdin.on("data", (chunk) => { text += chunk; }).on("end", () => {
      for (const m of JSON.parse(text).manifests) {
        const name = m.annotations?.["io.containerd.image.name"];
        if (name) console.log(`${name} ${m.digest}`);
      }
    });'
}

# "name digest" for every image containerd has in k8s.io (columns REF TYPE DIGEST ...).
present() { ctr_k8s images ls | awk 'NR > 1 { print $1, $3 }'; }

# True when every wanted line is among the present ones.
all_present() { # wanted present
  local line
  while read -r line; do grep -qxF "$line" <<< "$2" || return 1; done <<< "$1"
}

want="$(wanted)"
[[ -n "$want" ]] || { echo "$tarball names no image (io.containerd.image.name)" >&2; exit 1; }
if all_present "$want" "$(present)"; then
  log "already in containerd: $(cut -d' ' -f1 <<< "$want" | paste -sd' ')"
  exit 0
fi
start=$SECONDS
log "importing $tarball into containerd (namespace k8s.io)"
ctr_k8s images import "$tarball" >&2
all_present "$want" "$(present)" || { echo "import finished but containerd does not list: $want" >&2; exit 1; }
log "imported $(cut -d' ' -f1 <<< "$want" | paste -sd' ') in $((SECONDS - start)) s"
