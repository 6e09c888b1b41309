#!/usr/bin/env bash
# A real OCI registry for the remote-cache tests and benchmarks: Debian's
# docker-registry (CNCF distribution 2.8) on loopback.
#
#   scripts/registry.sh install        install docker-registry, htpasswd and busybox-static (apt)
#   scripts/registry.sh start [--auth] start one on a free loopback port, storage
#                                      in a temporary directory; prints
#                                      `export PODIUM_TEST_REGISTRY=127.0.0.1:PORT`
#                                      (and the user and password with --auth)
#                                      and the pid, then returns
#   scripts/registry.sh stop PID       stop one started by `start`
#
# The Go tests start their own registry when the binary exists (see
# internal/oci/registrytest); CI runs `install` before `make test` so that
# they run there instead of skipping.
set -euo pipefail

bin=${PODIUM_REGISTRY_BIN:-docker-registry}

install() {
  if command -v "$bin" >/dev/null && command -v htpasswd >/dev/null && [ -x /bin/busybox ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "registry.sh: docker-registry is not installed and this is not root: run apt-get install docker-registry apache2-utils" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the package from starting its own service on :5000.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends docker-registry apache2-utils busybox-static >/dev/null
  "$bin" --version
}

free_port() {
  python3 - 2>/dev/null <<'PY' || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

start() {
  local auth=${1:-}
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/podium-registry.XXXXXX")
  port=$(free_port)
  {
    echo "version: 0.1"
    echo "log: {level: warn, accesslog: {disabled: true}}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
  } >"$dir/config.yml"
  if [ "$auth" = "--auth" ]; then
    local pass
    pass=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    htpasswd -Bbn podium "$pass" >"$dir/htpasswd"
    echo "auth: {htpasswd: {realm: podium, path: $dir/htpasswd}}" >>"$dir/config.yml"
    echo "export PODIUM_TEST_REGISTRY_USER=podium PODIUM_TEST_REGISTRY_PASSWORD=$pass"
  fi
  "$bin" serve "$dir/config.yml" >"$dir/log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null ||
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "export PODIUM_TEST_REGISTRY=127.0.0.1:$port PODIUM_TEST_REGISTRY_PID=$pid PODIUM_TEST_REGISTRY_DIR=$dir"
      return 0
    fi
    sleep 0.1
  done
  echo "registry.sh: the registry did not start; its log:" >&2
  cat "$dir/log" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
}

case ${1:-} in
  install) install ;;
  start) start "${2:-}" ;;
  stop) kill "${2:?usage: registry.sh stop PID}" ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
