#!/usr/bin/env bash
# Build podium's container images (make image).
#
#   scripts/image.sh          build both targets of the Dockerfile:
#                             $IMAGE:$TAG-action (root, for GitHub actions)
#                             and $IMAGE:$TAG (non-root, the default target)
#   scripts/image.sh smoke    build Dockerfile.scratch around a host-built
#                             binary (no base image to pull) and run
#                             `podium version` in both of its targets
#
# Uses docker (when its daemon answers), podman or buildah, in that order;
# BUILDER=<name> picks one. Every run first builds the binary on the host
# and fails unless it is static. Environment: IMAGE (default
# ghcr.io/podium-ml/podium), TAG (default: VERSION), VERSION, COMMIT, DATE.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-full}
case $mode in
  full | smoke) ;;
  *) echo "usage: scripts/image.sh [smoke]" >&2; exit 2 ;;
esac

PKG=github.com/podium-ml/podium
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || true)}
VERSION=${VERSION:-dev}
COMMIT=${COMMIT:-$(git rev-parse --verify --quiet HEAD 2>/dev/null || true)}
COMMIT=${COMMIT:-unknown}
DATE=${DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
IMAGE=${IMAGE:-ghcr.io/podium-ml/podium}
TAG=${TAG:-$VERSION}
# A tag may not hold '+' and the like; git describe may give "v1-3-gabc-dirty".
TAG=${TAG//[^A-Za-z0-9_.-]/-}

# --- the binary: static, stamped, built exactly as the Dockerfile does -----
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X $PKG/internal/version.Version=$VERSION -X $PKG/internal/version.Commit=$COMMIT -X $PKG/internal/version.Date=$DATE" \
  -o "$work/podium" ./cmd/podium

# `file` says "statically linked" (or "static-pie linked"); ldd, where it
# runs, says "not a dynamic executable". Either proof is enough, a dynamic
# section is a failure.
if command -v file >/dev/null && ! file "$work/podium" | grep -Eq 'static(ally|-pie) linked'; then
  echo "image: the podium binary is not static:" >&2
  file "$work/podium" >&2
  exit 1
fi
if command -v ldd >/dev/null && ldd "$work/podium" 2>&1 | grep -q '=>'; then
  echo "image: the podium binary links shared libraries:" >&2
  ldd "$work/podium" >&2
  exit 1
fi
echo "binary: static, $(wc -c <"$work/podium") bytes, $("$work/podium" version)"

# --- the builder -----------------------------------------------------------
pick_builder() {
  if [[ -n ${BUILDER:-} ]]; then echo "$BUILDER"; return; fi
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then echo docker; return; fi
  if command -v podman >/dev/null; then echo podman; return; fi
  if command -v buildah >/dev/null; then echo buildah; return; fi
  echo "image: no docker daemon, podman or buildah found" >&2
  exit 1
}
builder=$(pick_builder)

# Debian's buildah runs rootless and without a daemon with these settings.
buildah_() { buildah --storage-driver "${STORAGE_DRIVER:-vfs}" "$@"; }

build() { # build <dockerfile> <context> <target> <tag> [build args...]
  local file=$1 ctx=$2 target=$3 tag=$4
  shift 4
  case $builder in
    docker | podman) "$builder" build -f "$file" --target "$target" -t "$tag" "$@" "$ctx" ;;
    buildah) buildah_ bud --isolation chroot -f "$file" --target "$target" -t "$tag" "$@" "$ctx" ;;
    *) echo "image: unknown builder $builder" >&2; exit 1 ;;
  esac
}

run() { # run <tag> <args...>: run podium in the image
  local tag=$1
  shift
  case $builder in
    docker | podman) "$builder" run --rm "$tag" "$@" ;;
    buildah)
      local ctr
      ctr=$(buildah_ from "$tag")
      buildah_ run --isolation chroot "$ctr" -- /usr/local/bin/podium "$@"
      buildah_ rm "$ctr" >/dev/null
      ;;
  esac
}

size() { # size <tag>: the image's size as the builder reports it
  case $builder in
    docker | podman) "$builder" image inspect --format '{{.Size}} bytes' "$1" ;;
    buildah) buildah_ images --format '{{.Size}}' "$1" ;;
  esac
}

args=(--build-arg "VERSION=$VERSION" --build-arg "COMMIT=$COMMIT" --build-arg "DATE=$DATE")
[[ -n ${GO_IMAGE:-} ]] && args+=(--build-arg "GO_IMAGE=$GO_IMAGE")
[[ -n ${BASE_IMAGE:-} ]] && args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")

if [[ $mode == smoke ]]; then
  ca=""
  for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
    [[ -f $f ]] && { ca=$f; break; }
  done
  [[ -n $ca ]] || { echo "image: no CA bundle found on this machine" >&2; exit 1; }
  cp "$ca" "$work/ca-certificates.crt"
  build Dockerfile.scratch "$work" action "$IMAGE:$TAG-smoke-action"
  build Dockerfile.scratch "$work" cli "$IMAGE:$TAG-smoke"
  for t in "$IMAGE:$TAG-smoke-action" "$IMAGE:$TAG-smoke"; do
    echo "$t: $(run "$t" version) ($(size "$t"))"
  done
  exit 0
fi

build Dockerfile . action "$IMAGE:$TAG-action" "${args[@]}"
build Dockerfile . cli "$IMAGE:$TAG" "${args[@]}"
for t in "$IMAGE:$TAG-action" "$IMAGE:$TAG"; do
  echo "$t: $(run "$t" version) ($(size "$t"))"
done
