#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and caches them outside the
# repo, keyed by a hash of everything that pins them (wrapper go.mod/go.sum/main.go, Go version).
# A cached build is reused as is; only a changed pin rebuilds. Usage: build.sh [component...]
# (default: every component under go/, control plane first)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${CLOUDCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudconnect-operator}/bin"
mkdir -p "$cache"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
gover="$(go env GOVERSION)"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

key_of() { # component dir -> cache key
  (cd "$here/go/$1" && cat go.mod go.sum *.go ldflags package 2>/dev/null; echo "$gover") | sha256sum | cut -c1-16
}

# Prints a progress line every 30 s while a long build runs, so a cold build never looks hung.
with_progress() {
  local what="$1"; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5 & wait $! || true
    if kill -0 "$pid" 2>/dev/null && (( (SECONDS - start) % 30 < 5 )); then
      log "$what: still building ($((SECONDS - start)) s elapsed)"
    fi
  done
  wait "$pid"
}

build_component() { # name
  local name="$1" key dest
  key="$(key_of "$name")"
  dest="$cache/$name-$key"
  if [[ -f "$dest/.complete" ]]; then
    log "$name: cached ($dest)"
  else
    log "$name: building (cold builds take minutes; cache $dest)"
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    local start=$SECONDS ldflags=""
    local pkg=.
    if [[ -f "$here/go/$name/ldflags" ]]; then ldflags="$(cat "$here/go/$name/ldflags")"; fi
    if [[ -f "$here/go/$name/package" ]]; then pkg="$(cat "$here/go/$name/package")"; fi
    (cd "$here/go/$name" && with_progress "$name" go build -p 2 -trimpath -ldflags "-s -w $ldflags" -o "$dest.tmp/$name" "$pkg")
    rm -rf "$dest" && mv "$dest.tmp" "$dest"
    echo "$((SECONDS - start))" > "$dest/.build-seconds"
    touch "$dest/.complete"
    log "$name: built in $((SECONDS - start)) s"
  fi
  echo "$dest"
}

components=("$@")
# The control plane and the real node (kubenode: kubelet, kube-proxy), then the tools the tests use: nats-server (relay queue), helm and actionlint (chart tests).
if [[ ${#components[@]} -eq 0 ]]; then components=(etcd vault kwok k8s kubenode nats-server helm actionlint); fi
for c in "${components[@]}"; do build_component "$c" >/dev/null; done
