# syntax=docker/dockerfile:1
#
# podium's container image: one static Go binary, git and CA certificates.
#
#   docker build --target action -t ghcr.io/podium-ml/podium:v0.1.0-action .
#       a root variant, for a workflow job's `container:` (GitHub runs
#       those as root); podium's actions are composite and install the
#       release binary instead (actions/setup)
#   docker build -t ghcr.io/podium-ml/podium:v0.1.0 .
#       the default, last target: non-root, for GitLab jobs (and the
#       podium-binary job that hands its binary to test and train) and the CLI
#
# scripts/image.sh (make image) builds both with docker, podman or buildah
# and stamps the version. Dockerfile.scratch is the smoke image it builds
# where no base image can be pulled.
#
# The base images are pinned by tag. Release builds pin them by digest
# too: resolve each tag with `docker buildx imagetools inspect <image:tag>`
# and pass --build-arg GO_IMAGE=docker.io/library/golang:1.26-alpine@sha256:<digest>
# (and BASE_IMAGE). No digest is written here: this file was written where
# no registry can be reached, and a digest nobody checked is worse than
# none. Names are fully qualified because podman and buildah do not guess
# a registry for short names.

ARG GO_IMAGE=docker.io/library/golang:1.26-alpine
ARG BASE_IMAGE=docker.io/library/alpine:3.22

# --- build: a static, reproducible, version-stamped binary ---------------
FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN go build \
      -ldflags "-s -w \
        -X github.com/podium-ml/podium/internal/version.Version=${VERSION} \
        -X github.com/podium-ml/podium/internal/version.Commit=${COMMIT} \
        -X github.com/podium-ml/podium/internal/version.Date=${DATE}" \
      -o /out/podium ./cmd/podium \
 && /out/podium version

# --- runtime: what podium needs when it runs -----------------------------
# git: the registry, notes and shallow-clone fetches; CA certificates: the
# GitHub and GitLab APIs. Alpine also gives GitLab jobs the shell their
# script needs.
# The workspace is mounted from the host and owned by another user, which
# git refuses to read ("dubious ownership") unless told the directory is
# safe; the container holds nothing but the job's own checkout. The server
# and mail parts of git are removed: podium never runs them.
FROM ${BASE_IMAGE} AS runtime
RUN apk add --no-cache ca-certificates git \
 && git config --system --add safe.directory '*' \
 && rm -f /usr/libexec/git-core/git-daemon /usr/libexec/git-core/git-http-backend \
          /usr/libexec/git-core/git-shell /usr/libexec/git-core/scalar \
          /usr/libexec/git-core/git-imap-send
COPY --from=build /out/podium /usr/local/bin/podium
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
LABEL org.opencontainers.image.title="podium" \
      org.opencontainers.image.description="Continuous delivery for machine-learning models" \
      org.opencontainers.image.url="https://github.com/podium-ml/podium" \
      org.opencontainers.image.source="https://github.com/podium-ml/podium" \
      org.opencontainers.image.documentation="https://github.com/podium-ml/podium/tree/main/docs" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}"
ENTRYPOINT ["/usr/local/bin/podium"]

# --- action: root, for a GitHub job's container ---------------------------
# GitHub runs job and service containers as root, mounts the workspace and
# sets the working directory itself, and its docs say not to set USER: so
# neither USER nor WORKDIR here.
FROM runtime AS action

# --- cli (default): GitLab jobs and local use, as a non-root user --------
# GitLab runs the job's script with a shell, so its jobs override the
# entrypoint (`entrypoint: [""]`) and call podium by name.
FROM runtime AS cli
RUN addgroup -S -g 10001 podium \
 && adduser -S -D -u 10001 -G podium -h /home/podium -s /bin/sh podium
ENV HOME=/home/podium
USER 10001:10001
WORKDIR /home/podium
