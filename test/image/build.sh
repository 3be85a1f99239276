#!/usr/bin/env bash
# Builds the project's container images without a Docker engine or a registry, as OCI image tarballs
# that `ctr images import` (test/image/import.sh) loads into containerd. Usage: build.sh [operator|pause]
#   operator (default): the image the Dockerfile describes (test/image/spec.json holds what both say):
#     the pinned Node binary (npm package `node`) at /nodejs/bin/node with exactly the libraries `ldd`
#     lists and the loader, the production dependencies (`npm ci --omit=dev --ignore-scripts`), the
#     operator/ sources without tests, package.json; uid/gid 65532, no shell, every file owned by root.
#   pause: the pod sandbox's pause program (test/cluster/go/pause, built by test/cluster/build.sh).
# Each tarball is cached under $CLOUDCONNECT_CACHE/images, keyed by a hash of everything that goes
# into it (sources, lockfile, binaries, libraries, this script, the spec): an unchanged tree rebuilds
# nothing. Progress goes to stderr; the last line on stdout is `IMAGE=<name:key> TAR=<path>`.
# The image is also tagged <name>:dev. Needs root (files in the image are owned by root) and umoci.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${CLOUDCONNECT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudconnect-operator}/images"
spec="$here/spec.json"
# The project's pinned Node runs npm and reads the spec; the same binary goes into the image.
node_bin="$root/node_modules/node/bin/node"
export PATH="$root/node_modules/.bin:$PATH"

log() { printf '[image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# spec KIND FIELD -> the field's value; arrays one element a line, objects as key=value lines.
spec() {
  # shellcheck disable=SC2016 # JavaScript: its ${} are template literals, not shell expansions
  "$node_bin" -e '
    const [file, kind, field] = process.argv.slice(1);
    const value = JSON.parse(require("node:fs").readFileSync(file, "utf8"))[kind][field];
    if (value === undefined) throw new Error(`spec.json has no ${kind}.${field}`);
    if (Array.isArray(value)) console.log(value.join("\n"));
    else if (typeof value === "object") for (const [k, v] of Object.entries(value)) console.log(`${k}=${v}`);
    else console.log(value);' "$spec" "$1" "$2"
}

# Reads lines into the named array (bash 4 mapfile; empty input gives an empty array).
lines_into() { mapfile -t "$1"; }

preflight() {
  command -v umoci >/dev/null || die "umoci is missing: run test/install-system-deps.sh (Debian package umoci)"
  [[ -x "$node_bin" ]] || die "the pinned Node is missing ($node_bin): run \`make deps\`"
  [[ $EUID -eq 0 ]] || die "must run as root: the image's files are packed owned by root (uid 0)"
  mkdir -p "$cache"
}

# Sets the files of a staged root filesystem to root-owned and not writable by anyone else.
lock_down() { # rootfs
  chown -R 0:0 "$1"
  chmod -R go-w,a+rX "$1"
}

# Starts an empty OCI image in WORK (layout WORK/oci, tag KEY) and unpacks it to WORK/bundle: the
# caller fills WORK/bundle/rootfs, then pack_finish packs it as one layer.
pack_start() { # key work
  umoci init --layout "$2/oci"
  umoci new --image "$2/oci:$1"
  umoci unpack --image "$2/oci:$1" "$2/bundle"
}

# Packs WORK/bundle/rootfs as one layer, applies KIND's config from the spec, tags the image KEY and
# dev, names both for containerd (io.containerd.image.name in index.json) and writes the tarball OUT.
pack_finish() { # kind key work out
  local kind="$1" key="$2" work="$3" out="$4" repo
  repo="$(spec "$kind" repository)"
  local layout="$work/oci" image="$work/oci:$key"
  lock_down "$work/bundle/rootfs"
  umoci repack --image "$image" --history.created_by "test/image/build.sh $kind" "$work/bundle"
  local args=(--config.user "$(spec "$kind" user)" --clear config.cmd --clear config.entrypoint)
  local entry entrypoint env workdir labels label
  lines_into entrypoint < <(spec "$kind" entrypoint)
  for entry in "${entrypoint[@]}"; do args+=(--config.entrypoint "$entry"); done
  if [[ "$kind" == operator ]]; then
    workdir="$(spec "$kind" workdir)"
    args+=(--config.workingdir "$workdir")
    lines_into env < <(spec "$kind" env)
    for entry in "${env[@]}"; do args+=(--config.env "$entry"); done
    lines_into labels < <(spec "$kind" labels)
    for label in "${labels[@]}"; do args+=(--config.label "$label"); done
  fi
  umoci config --image "$image" --history.created_by "test/image/build.sh $kind (config)" "${args[@]}"
  umoci tag --image "$image" dev
  umoci gc --layout "$layout"
  # shellcheck disable=SC2016 # JavaScript: its ${} are template literals, not shell expansions
  "$node_bin" -e '
    const fs = require("node:fs");
    const [file, repo] = process.argv.slice(1);
    const index = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const m of index.manifests) {
      const tag = m.annotations?.["org.opencontainers.image.ref.name"];
      if (tag) m.annotations["io.containerd.image.name"] = `${repo}:${tag}`;
    }
    fs.writeFileSync(file, JSON.stringify(index));' "$layout/index.json" "$repo"
  # Written in this build's own work dir, then renamed: a concurrent build of the same key (another
  # checkout shares the cache) never sees a partial tarball.
  tar --sort=name --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$work/image.tar" .
  mv "$work/image.tar" "$out"
}

# Keeps the KEEP newest tarballs of KIND: every source edit makes a new operator key (61 MiB each).
prune() { # kind keep
  local old
  while read -r old; do
    log "$1: removing an old tarball ($old)"
    rm -f "$old"
  done < <(find "$cache" -maxdepth 1 -name "$1-*.tar" -printf '%T@ %p\n' | sort -rn | tail -n +"$(($2 + 1))" | cut -d' ' -f2-)
}

# Prints the result lines for KIND's tarball OUT with KEY.
report() { # kind key out
  local repo size
  repo="$(spec "$1" repository)"
  size="$(awk -v b="$(stat -c %s "$3")" 'BEGIN { printf "%.1f", b / 1048576 }')"
  log "$1: $repo:$2 (tarball $size MiB, compressed layers; also tagged $repo:dev)"
  echo "IMAGE=$repo:$2 TAR=$3"
}

build_pause() {
  local bin key out work
  "$root/test/cluster/build.sh" pause
  bin="$("$root/test/cluster/bin-path.sh" pause)"
  [[ -x "$bin" ]] || die "pause binary missing after test/cluster/build.sh pause: $bin"
  key="$( (sha256sum "$bin" | cut -d' ' -f1; cat "$0" "$spec"; umoci --version) | sha256sum | cut -c1-16)"
  out="$cache/pause-$key.tar"
  if [[ -f "$out" ]]; then
    log "pause: cached ($out)"
  else
    log "pause: packing"
    work="$(mktemp -d "$cache/.work-pause.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    pack_start "$key" "$work" >&2
    install -m 0755 "$bin" "$work/bundle/rootfs/pause"
    pack_finish pause "$key" "$work" "$out" >&2
    rm -rf "$work" && trap - EXIT
  fi
  report pause "$key" "$out"
}

# The shared libraries the dynamically linked Node needs, as `ldd` lists them (and the loader).
node_libs() {
  ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

# operator/ minus the excluded names (tests and their helpers), relative to the repo, sorted.
operator_sources() {
  local exclude=() pattern patterns
  lines_into patterns < <(spec operator exclude)
  for pattern in "${patterns[@]}"; do exclude+=(! -name "$pattern"); done
  (cd "$root" && find operator -type f "${exclude[@]}" | LC_ALL=C sort)
}

# Hash of everything that goes into the operator image, or decides how it is made.
operator_key() {
  local lib
  {
    cat "$0" "$spec" "$root/package.json" "$root/package-lock.json"
    sha256sum "$node_bin" | cut -d' ' -f1
    while read -r lib; do sha256sum "$(readlink -f "$lib")" | cut -d' ' -f1; echo "$lib"; done < <(node_libs)
    (cd "$root" && operator_sources | while read -r f; do stat -c '%a %n' "$f"; sha256sum "$f"; done)
    umoci --version
    npm --version
  } | sha256sum | cut -c1-16
}

# /nodejs/bin/node as in distroless, its libraries and loader at the paths ldd names, and the
# passwd/group entries of the image's user (nonroot, 65532) and of root. No shell, no package manager.
stage_runtime() { # rootfs
  local rootfs="$1" lib user name home
  install -D -m 0755 "$node_bin" "$rootfs$(spec operator node)"
  while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L --preserve=mode "$lib" "$rootfs$lib"
  done < <(node_libs)
  user="$(spec operator user)" name="$(spec operator userName)" home="$(spec operator home)"
  mkdir -p "$rootfs/etc" "$rootfs$home"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n%s:x:%s:%s:%s:%s:/sbin/nologin\n' \
    "$name" "${user%%:*}" "${user##*:}" "$name" "$home" > "$rootfs/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\n' "$name" "${user##*:}" > "$rootfs/etc/group"
}

# The application at WORKDIR: package.json, the production dependencies installed in a staging
# directory from package.json + package-lock.json, and the operator sources.
stage_app() { # rootfs work
  local app stage="$2/stage" install
  app="$1$(spec operator workdir)"
  mkdir -p "$app" "$stage"
  cp "$root/package.json" "$root/package-lock.json" "$stage/"
  lines_into install < <(spec operator dependencies)
  log "operator: ${install[*]} (production dependencies)"
  (cd "$stage" && NODE_ENV=production "${install[@]}" --no-audit --no-fund --prefer-offline --loglevel=error >&2)
  cp "$root/package.json" "$app/"
  mv "$stage/node_modules" "$app/"
  (cd "$root" && operator_sources | xargs -d '\n' cp --parents -t "$app")
}

build_operator() {
  local key out work
  log "operator: hashing the sources, lockfile, Node and its libraries"
  key="$(operator_key)"
  out="$cache/operator-$key.tar"
  if [[ -f "$out" ]]; then
    log "operator: cached ($out)"
    touch "$out" # last used: prune keeps the recently used ones
  else
    log "operator: building"
    work="$(mktemp -d "$cache/.work-operator.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    pack_start "$key" "$work" >&2
    stage_runtime "$work/bundle/rootfs"
    stage_app "$work/bundle/rootfs" "$work"
    log "operator: packing the layer"
    pack_finish operator "$key" "$work" "$out" >&2
    rm -rf "$work" && trap - EXIT
    prune operator 5
  fi
  report operator "$key" "$out"
}

case "${1:-operator}" in
  pause) preflight && build_pause ;;
  operator) preflight && build_operator ;;
  *) echo "usage: $0 [operator|pause]" >&2; exit 2 ;;
esac
