#!/usr/bin/env bash
# Builds the peers of secretsync's side-by-side benchmarks from their Go modules, at pinned
# releases, into a cache outside the repository (nothing of theirs is committed):
#
#   sealed-secrets    github.com/bitnami-labs/sealed-secrets v0.36.0 (the release the migration
#                     corpus comes from): cmd/controller -> sealed-secrets-controller, cmd/kubeseal
#                     -> kubeseal. Its go.mod has no replace directives, so `go install pkg@version`
#                     builds exactly the release's dependency graph (its go.sum, checked against the
#                     checksum database).
#   external-secrets  github.com/external-secrets/external-secrets v0.16.2 -> external-secrets, the
#                     controller binary (main.go at the module root; its cert-controller and webhook
#                     are subcommands, not used here). Built through the small module in eso/ (go.mod
#                     + go.sum pin every dependency) because ESO's go.mod replaces
#                     github.com/Masterminds/sprig/v3, and a dependency's replace directives are ignored.
#                     Not v1.3.2, the release the corpus's CRDs come from: v1.x splits ESO into 56
#                     nested modules (apis, runtime, providers/v1/*, generators/v1/*) that its go.mod
#                     replaces with ./ paths; a module zip leaves nested modules out, and the Go module
#                     proxy here serves none of them ("runtime@v0.0.0: reading .../runtime/@v/v0.0.0.zip:
#                     403 Forbidden, server response: This module version is not available", the same for
#                     the pseudo-versions of the release commit). v0.16.2 is the newest release served
#                     (the proxy lists v0.16.2 and v1.3.2 only).
#   vault-secrets-operator: not built. github.com/hashicorp/vault-secrets-operator is not served
#                     ("@v/list: 403 Forbidden, This module version is not available").
#
# Each peer goes to ${SECRETSYNC_PEERS_DIR:-~/.cache/secretsync/peers}/<name>-<version>/bin, rebuilt
# only when its pins change (a .pins stamp next to the binaries), with the wall time of each cold
# build in build-times.tsv there. Usage: build.sh [sealed-secrets] [external-secrets] (default both).
# Prints, as its last line on stdout, a directory holding a link to every binary built; progress
# and timings go to stderr. Runs Go under `nice -n 19` (the machine has 2 cores; set PEERS_NICE=0
# to build at normal priority). A cold build takes minutes (ESO: all its providers' SDKs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

SEALED_SECRETS_MODULE=github.com/bitnami-labs/sealed-secrets
SEALED_SECRETS_VERSION=v0.36.0
ESO_MODULE=github.com/external-secrets/external-secrets
ESO_VERSION="$(awk -v m="$ESO_MODULE" '$1 == m {print $2}' "$here/eso/go.mod")"

root="${SECRETSYNC_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secretsync/peers}"
nice_level="${PEERS_NICE:-19}"

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is needed to build the benchmark peers and is not on PATH; install Go 1.26 or newer (https://go.dev/dl/)" >&2
  exit 1
fi

# One build at a time per cache (two benchmarks starting together must not build twice).
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9

gorun() { nice -n "$nice_level" env CGO_ENABLED=0 "$@"; }

# build_one DIR PINS NAME FUNCTION ARGS...: unless DIR/bin/NAME exists and DIR/.pins.NAME holds
# PINS, runs FUNCTION ARGS... OUT, which must write the binary to OUT; records the wall time.
build_one() {
  local dir="$1" pins="$2" name="$3" func="$4"; shift 4
  if [ -x "$dir/bin/$name" ] && [ "$(cat "$dir/.pins.$name" 2>/dev/null)" = "$pins" ]; then
    return 0
  fi
  mkdir -p "$dir/bin"
  echo "building $name ($pins) into $dir/bin ..." >&2
  local started=$EPOCHREALTIME seconds
  "$func" "$@" "$dir/bin/.$name.tmp"
  mv -f "$dir/bin/.$name.tmp" "$dir/bin/$name"
  seconds=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
  printf '%s\t%s s\t%s\tnice %s\t%s\n' "$name" "$seconds" "$(date -u +%FT%TZ)" "$nice_level" "$pins" \
    >>"$dir/build-times.tsv"
  echo "$pins" >"$dir/.pins.$name"
  echo "built $name in $seconds s" >&2
}

built=()

# go install names the binary after the package directory: install into a private GOBIN, then move.
_go_install() {
  local pkg="$1" ldflags="$2" out="$3" tmp
  tmp="$(mktemp -d)"
  GOBIN="$tmp" gorun go install -trimpath -ldflags="$ldflags" "$pkg"
  mv "$tmp/$(basename "${pkg%@*}")" "$out"
  rm -rf "$tmp"
}

build_sealed_secrets() {
  local dir="$root/sealed-secrets-$SEALED_SECRETS_VERSION" cmd name pkg
  # The release's own ldflags (.goreleaser.yml: -X main.VERSION={{ .Version }}, CGO_ENABLED=0).
  local ldflags="-X main.VERSION=${SEALED_SECRETS_VERSION#v}"
  for cmd in controller kubeseal; do
    name="$cmd"; [ "$cmd" = controller ] && name=sealed-secrets-controller
    pkg="$SEALED_SECRETS_MODULE/cmd/$cmd@$SEALED_SECRETS_VERSION"
    build_one "$dir" "$pkg $ldflags" "$name" _go_install "$pkg" "$ldflags"
    built+=("$dir/bin/$name")
  done
}

# -mod=readonly: eso/go.sum must already pin everything; a build never changes the pins.
_go_build_eso() {
  (cd "$here/eso" && GOFLAGS=-mod=readonly gorun go build -trimpath -o "$1" "$ESO_MODULE")
}

build_external_secrets() {
  local dir="$root/external-secrets-$ESO_VERSION" pins
  # Comments in go.mod are no pins.
  pins="$ESO_MODULE@$ESO_VERSION eso/go.mod+go.sum $({ grep -v '^//' "$here/eso/go.mod"; cat "$here/eso/go.sum"; } | sha256sum | cut -c1-12)"
  # ESO's Makefile: CGO_ENABLED=0 go build -o ... main.go. v0.16 has no provider build tags: every
  # provider is compiled in, as in the release image.
  build_one "$dir" "$pins" external-secrets _go_build_eso
  built+=("$dir/bin/external-secrets")
}

peers=("$@")
[ "${#peers[@]}" -eq 0 ] && peers=(sealed-secrets external-secrets)
for peer in "${peers[@]}"; do
  case "$peer" in
    sealed-secrets) build_sealed_secrets ;;
    external-secrets) build_external_secrets ;;
    *) echo "error: unknown peer $peer (known: sealed-secrets external-secrets)" >&2; exit 2 ;;
  esac
done

# One directory with a link to each binary, keyed by what was built.
key="$(printf '%s\n' "${built[@]}" | sha256sum | cut -c1-12)"
links="$root/bin-$key"
mkdir -p "$links"
for bin in "${built[@]}"; do
  ln -sfn "$bin" "$links/$(basename "$bin")"
done
echo "$links"
