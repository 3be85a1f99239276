#!/usr/bin/env bash
# Prints the cached binary of a component (k8s, etcd, kwok, vault) at the path build.sh builds it
# to, with the same cache key. Usage: bin-path.sh COMPONENT. It does not build; see build.sh.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"
if [[ $# -ne 1 ]]; then echo "usage: $0 COMPONENT (k8s|etcd|kwok|vault)" >&2; exit 2; fi
cluster_bin_path "$1"
