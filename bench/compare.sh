#!/usr/bin/env bash
# bench/compare.sh: what `podium compare` costs on a candidate with SLICES
# (default 10) slices of a metric, judged against the champion on
# origin/main, in a clone as CI checks a pull request out. Side by side,
# alternated (A B A B ...), medians of RUNS: `git cat-file -p` of the
# champion pointer (the one read compare cannot skip), `git --version` and
# `podium version` (start-up alone: compare's own work is the difference;
# BenchmarkCompareGit in internal/cli measures it in process);
# BASE=<git revision> also runs podium built there.
#
#   bash bench/compare.sh
#   SLICES=100 RUNS=21 BASE=main bash bench/compare.sh
set -euo pipefail

RUNS=${RUNS:-15}
SLICES=${SLICES:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
setup_work

# metrics VALUE: accuracy and SLICES regions, as JSON object members.
metrics() {
	local i sep=""
	printf '"accuracy": %s' "$1"
	for i in $(seq "$SLICES"); do
		printf ', "acc_by_region.r%02d": %s' "$i" "$1"
	done
}
up=$work/upstream
git init -q -b main "$up"
git -C "$up" config user.email bench@example.com
git -C "$up" config user.name bench
cat >"$up/podium.yaml" <<'YAML'
version: 1
model: bench
gate:
  rules:
    - {metric: accuracy, direction: higher, min_delta: 0.01}
    - {metric: "acc_by_region.*", direction: higher, tolerance: 0.05}
YAML
mkdir -p "$up/.podium/registry"
cat >"$up/.podium/registry/bench.json" <<JSON
{"schema_version": 1, "model": "bench", "version": "v1", "metrics": {$(metrics 0.8)},
 "commit": "$(printf 'a%.0s' $(seq 40))", "promoted_at": "2026-01-02T03:04:05Z"}
JSON
git -C "$up" add -A
git -C "$up" commit -qm "promote bench v1"
git -C "$up" checkout -qb pr
git -C "$up" commit -q --allow-empty -m "the pull request"
git -C "$up" checkout -q main
c=$work/clone
git clone -q --branch pr "$up" "$c"
# The candidate's slices are nested, as a training script writes them.
{
	printf '{"accuracy": 0.85, "acc_by_region": {'
	for i in $(seq "$SLICES"); do
		printf '%s"r%02d": 0.85' "$([[ $i -gt 1 ]] && echo ,)" "$i"
	done
	printf '}}\n'
} >"$c/cand.json"

compare_new() { (cd "$c" && "$work/podium" compare --candidate cand.json --json); }
compare_base() { (cd "$c" && "$base" compare --candidate cand.json --json); }
cat_file() { git -C "$c" cat-file -p origin/main:.podium/registry/bench.json; }
git_version() { git --version; }
podium_version() { "$work/podium" version; }
compare_new >"$work/verdict.json" || true
if ! grep -q '"decision": *"promote"' "$work/verdict.json"; then
	echo "FAIL: podium compare did not promote the better candidate:" >&2
	cat "$work/verdict.json" >&2
	exit 1
fi
args=("git --version=git_version" "git cat-file (the pointer)=cat_file" "podium version=podium_version" "podium compare=compare_new")
[[ -n $base ]] && args+=("podium compare (BASE)=compare_base")
compare "podium compare, $SLICES slices (target: < 50 ms)" "${args[@]}"
