#!/usr/bin/env bash
# actions/setup/setup.sh: put a checksum-verified podium binary on the PATH.
#
# The binary and checksums.txt come from the release's assets (or, for a
# runner with no internet, a directory laid out the same way: PODIUM_DIST).
# The binary's SHA-256 must match its line in checksums.txt; a mismatch
# fails the step. A verified binary is kept in the runner's tool cache and
# checked again on every later use.
#
# Environment:
#   PODIUM_VERSION  the release to install (default: the version below,
#                   which the release workflow keeps equal to the tag)
#   PODIUM_DIST     a directory (or URL) holding podium_<os>_<arch> and
#                   checksums.txt, used instead of the release's assets
#   PODIUM_REPOSITORY  owner/name of the release (default podium-ml/podium)
# Prints the binary's path.
set -euo pipefail

default_version=v0.1.0
version=${PODIUM_VERSION:-$default_version}
repository=${PODIUM_REPOSITORY:-podium-ml/podium}
server=${GITHUB_SERVER_URL:-https://github.com}
dist=${INPUT_DIST:-${PODIUM_DIST:-$server/$repository/releases/download/$version}}

fail() { printf 'podium setup: %s\n' "$*" >&2; exit 1; }

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) fail "no podium binary for $(uname -s); use podium's container image" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "no podium binary for $(uname -m)" ;;
esac
asset=podium_${os}_${arch}

case "$version" in
  v[0-9]*) ;;
  *) fail "PODIUM_VERSION must be a release tag such as v0.1.0" ;;
esac

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# fetch copies the asset named $1 to the file $2, from PODIUM_DIST or the release.
fetch() {
  case "$dist" in
    http://* | https://*)
      curl --fail --silent --show-error --location --retry 3 --output "$2" "$dist/$1" ||
        fail "failed to download $1 from $dist" ;;
    *)
      [ -f "$dist/$1" ] || fail "no $1 in PODIUM_DIST"
      cp "$dist/$1" "$2" ;;
  esac
}

root=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/podium/${version#v}/$arch
mkdir -p "$root"
tmp=$(mktemp -d "$root/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fetch checksums.txt "$tmp/checksums.txt"
want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1; exit }' "$tmp/checksums.txt")
case "$want" in
  [0-9a-f]*) [ ${#want} -eq 64 ] || fail "checksums.txt has no SHA-256 for $asset" ;;
  *) fail "checksums.txt has no SHA-256 for $asset" ;;
esac

bin=$root/podium
if [ ! -x "$bin" ] || [ "$(sha256 "$bin")" != "$want" ]; then
  fetch "$asset" "$tmp/podium"
  got=$(sha256 "$tmp/podium")
  [ "$got" = "$want" ] || fail "$asset: SHA-256 $got does not match checksums.txt ($want)"
  chmod 0755 "$tmp/podium"
  mv -f "$tmp/podium" "$bin"
fi

# The setup action puts the directory on the PATH of the job's later steps
# and names the binary in its output; the step actions only read stdout.
if [ "${PODIUM_SETUP_EXPORT:-}" = true ]; then
  printf '%s\n' "$root" >>"$GITHUB_PATH"
  printf 'path=%s\n' "$bin" >>"$GITHUB_OUTPUT"
  printf 'version=%s\n' "$version" >>"$GITHUB_OUTPUT"
fi
printf '%s\n' "$bin"
