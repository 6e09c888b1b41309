#!/usr/bin/env bash
# bench/startup.sh: what a podium process costs before it does any work,
# against the floors under it. Each figure is the median of RUNS runs, the
# commands alternated (A B A B ...) so that load falls on each alike.
#
#   git --version          a small C program: the machine's exec floor
#   Go hello world         the Go runtime's floor
#   the named libraries    a program that links only the libraries the
#                          design names for podium (go-github, go-gitlab,
#                          go-retryablehttp, go-githubactions, cobra) and
#                          prints one line: the floor of any podium
#   podium's dependencies  a program that links every package podium links
#                          (the standard library's and third parties',
#                          podium's own excluded) and prints one line: what
#                          their package inits cost, which podium cannot skip
#   podium version         the above plus podium's own packages
#
# On a virtual machine start-up is mostly page faults (each package init
# touches its code and allocates), so the script also prints the minor page
# faults of one run of each, and the cost of one fault here.
#
#   bench/startup.sh
#   RUNS=20 BASE=main bench/startup.sh
set -euo pipefail

RUNS=${RUNS:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
setup_work

# The floor programs are built in a copy of podium's module file, so they
# link the very versions podium does.
floor=$work/floor
mkdir -p "$floor/hello" "$floor/named" "$floor/deps"
sed 's|^module .*|module podiumfloor|' "$root/go.mod" >"$floor/go.mod"
cp "$root/go.sum" "$floor/go.sum"
printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n' >"$floor/hello/main.go"
{
	printf 'package main\n\nimport (\n\t"os"\n\n'
	for p in github.com/google/go-github/v60/github github.com/xanzy/go-gitlab github.com/hashicorp/go-retryablehttp github.com/sethvargo/go-githubactions github.com/spf13/cobra; do
		printf '\t_ "%s"\n' "$p"
	done
	printf ')\n\nfunc main() { os.Stdout.WriteString("podium 0.0.0\\n") }\n'
} >"$floor/named/main.go"
{
	printf 'package main\n\nimport (\n\t"os"\n\n'
	# Internal and vendored packages cannot be imported from outside; their
	# importers are, and they bring them in.
	(cd "$root" && CGO_ENABLED=0 go list -deps ./cmd/podium) |
		grep -v -e '^github.com/podium-ml/' -e '/internal' -e '^internal/' -e '^vendor/' -e '^unsafe$' -e '^C$' -e '^runtime/cgo$' -e '^os$' |
		sed 's/.*/\t_ "&"/'
	printf ')\n\nfunc main() { os.Stdout.WriteString("podium 0.0.0\\n") }\n'
} >"$floor/deps/main.go"
echo "building the floor programs..." >&2
(cd "$floor" && CGO_ENABLED=0 go build -trimpath -o "$work/hello" ./hello && CGO_ENABLED=0 go build -trimpath -o "$work/named" ./named && CGO_ENABLED=0 go build -trimpath -o "$work/deps" ./deps)

git_version() { git --version; }
hello() { "$work/hello"; }
named() { "$work/named"; }
deps() { "$work/deps"; }
version_new() { "$work/podium" version; }
version_base() { "$base" version; }
args=("git --version=git_version" "Go hello world=hello" "the named libraries alone=named" "podium's dependencies alone=deps" "podium version=version_new")
[[ -n $base ]] && args+=("podium version (BASE)=version_base")
compare "start-up (target: podium version < 15 ms)" "${args[@]}"

# GNU time reports a process's minor page faults; bash's time does not.
if [[ -x /usr/bin/time ]]; then
	echo "minor page faults, one run each:"
	faults() { printf '  %-40s %6s\n' "$1" "$(/usr/bin/time -f %R "${@:2}" 2>&1 >/dev/null | tail -1)"; }
	faults "git --version" git --version
	faults "Go hello world" "$work/hello"
	faults "the named libraries alone" "$work/named"
	faults "podium's dependencies alone" "$work/deps"
	faults "podium version" "$work/podium" version
	[[ -n $base ]] && faults "podium version (BASE)" "$base" version
fi
