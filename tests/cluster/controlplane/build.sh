#!/usr/bin/env bash
# Builds the real Kubernetes control plane for the real-cluster test tier from Go modules:
# kube-apiserver, kube-controller-manager and kubectl from k8s.io/kubernetes, and etcd from
# go.etcd.io/etcd/server/v3, at the versions pinned in go.mod next to this script (go.sum pins
# every dependency). The binaries go to a cache outside the repository, keyed by the pins, so a
# machine builds them once: SECRETSYNC_K8S_BIN overrides the place.
#
# Prints the directory holding the binaries on stdout; progress goes to stderr.
# Needs Go (https://go.dev/dl/, the version in go.mod or newer); a cold build takes about
# 6-10 minutes on 2 cores, a cached one well under a second.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
k8s_version="$(awk '$1 == "k8s.io/kubernetes" {print $2}' "$here/go.mod")"
pins="$(cat "$here/go.mod" "$here/go.sum" "$here/etcd/main.go" "$0" | sha256sum | cut -c1-12)"
out="${SECRETSYNC_K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/secretsync/k8s-${k8s_version}-${pins}}"
binaries=(etcd kube-apiserver kube-controller-manager kubectl)

missing=()
for bin in "${binaries[@]}"; do
  [ -x "$out/$bin" ] || missing+=("$bin")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build the test control plane (${missing[*]}) and is not on PATH; install Go 1.26 or newer (https://go.dev/dl/), or set SECRETSYNC_K8S_BIN to a directory holding ${binaries[*]}" >&2
  exit 1
fi

mkdir -p "$out"
cd "$here"
started=$(date +%s)
# Stamp the release into the binaries as Kubernetes' own build does, so /version, `kubectl
# version` and client/server skew checks see v1.37.2 rather than v0.0.0-master.
minor="${k8s_version#v1.}"; minor="${minor%%.*}"
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp="$stamp -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp="$stamp -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
for bin in "${missing[@]}"; do
  if [ "$bin" = etcd ]; then pkg=./etcd; else pkg="k8s.io/kubernetes/cmd/$bin"; fi
  echo "building $bin ($pkg, kubernetes $k8s_version) into $out ..." >&2
  # -mod=readonly: go.sum must already pin everything; a build never changes the pins.
  GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w $stamp" -o "$out/.$bin.tmp" "$pkg"
  mv -f "$out/.$bin.tmp" "$out/$bin"
done
echo "built ${missing[*]} in $(( $(date +%s) - started )) s" >&2
echo "$out"
