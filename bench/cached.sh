#!/usr/bin/env bash
# bench/cached.sh: what a re-run that changes nothing costs. Each figure is
# the median of RUNS runs, the commands of one comparison alternated
# (A B A B ...) so that load on the machine falls on both alike.
#
#   1. `podium train` of a pipeline whose input and output total SIZE_MIB
#      (default 2 GiB), every step cached: with the stat cache warm, and
#      with --no-stat-cache (every file hashed).
#   2. A 4-step DAG over DAG_MIB (default 1 GiB), every step cached, with
#      --no-stat-cache, against `podium fingerprint --no-stat-cache` of its
#      distinct paths: hashing each path once is the floor.
#   3. The weather example, cached, with and without an undeclared
#      directory of TINY_FILES (default 100,000) files beside it (a .venv).
#   4. `podium version` against `git --version`.
#
# BASE=<git revision> also builds podium at that revision and runs it in
# the same alternation (it has no stat cache), for before/after figures.
#
#   bench/cached.sh
#   RUNS=9 BASE=main bench/cached.sh
set -euo pipefail

RUNS=${RUNS:-5}
SIZE_MIB=${SIZE_MIB:-2048}
DAG_MIB=${DAG_MIB:-1024}
TINY_FILES=${TINY_FILES:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/podium-bench.XXXXXX")
if [[ -z ${KEEP:-} ]]; then
	trap 'rm -rf "$work"' EXIT
fi
export XDG_CACHE_HOME=$work/xdg

echo "building podium..." >&2
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$work/podium" ./cmd/podium)
base=""
if [[ -n ${BASE:-} ]]; then
	echo "building podium at $BASE..." >&2
	mkdir -p "$work/base-src"
	git -C "$root" archive "$BASE" | tar -x -C "$work/base-src"
	(cd "$work/base-src" && CGO_ENABLED=0 go build -trimpath -o "$work/podium-base" ./cmd/podium)
	base=$work/podium-base
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2

# ms NAME CMD...: runs CMD once, appends its wall time and its CPU time
# (user + system, children included) in us to $work/t.NAME and $work/c.NAME.
# On a loaded machine the CPU time is the steadier figure.
ms() {
	local name=$1 out TIMEFORMAT='%3R %3U %3S'
	shift
	out=$({ time "$@" >/dev/null 2>&1; } 2>&1)
	read -r wall user sys <<<"$out"
	echo "$wall" | awk '{printf "%d\n", $1*1000000}' >>"$work/t.$name"
	echo "$user $sys" | awk '{printf "%d\n", ($1+$2)*1000000}' >>"$work/c.$name"
}
median() { sort -n "$work/$1" | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
# compare LABEL NAME=FUNC...: alternates the functions RUNS times, prints
# each median (wall and CPU) and the wall ratio to the first.
compare() {
	local label=$1 spec name
	shift
	rm -f "$work"/t.* "$work"/c.*
	for _ in $(seq "$RUNS"); do
		for spec in "$@"; do
			ms "${spec%%=*}" "${spec#*=}"
		done
	done
	local first
	first=$(median "t.${1%%=*}")
	echo "$label"
	for spec in "$@"; do
		name=${spec%%=*}
		printf '  %-34s %9s ms wall %5.2fx  %9s ms cpu\n' "$name" "$(median "t.$name")" "$(echo "$(median "t.$name") / $first" | bc -l)" "$(median "c.$name")"
	done
}

# 1. A train re-run over SIZE_MIB.
t=$work/train
mkdir -p "$t/data"
head -c "$((SIZE_MIB / 2))M" /dev/urandom >"$t/data/input.bin"
cat >"$t/podium.yaml" <<'EOF'
version: 1
model: bench
pipeline:
  - name: train
    run: mkdir -p model && cp data/input.bin model/weights.bin && echo '{"accuracy":1}' > metrics.json
    inputs: [data/input.bin]
    outputs: [model/, metrics.json]
metrics: metrics.json
EOF
"$work/podium" train --spec "$t/podium.yaml" >/dev/null 2>&1
# The first cached run hashes the outputs again: they were written just
# before they were hashed (racy), so the stat cache did not keep them.
"$work/podium" train --spec "$t/podium.yaml" >/dev/null 2>&1
train_new() { "$work/podium" train --spec "$t/podium.yaml"; }
train_nocache() { "$work/podium" train --spec "$t/podium.yaml" --no-stat-cache; }
train_base() { "$base" train --spec "$t/podium.yaml"; }
args=("podium train (stat cache)=train_new" "podium train --no-stat-cache=train_nocache")
[[ -n $base ]] && args+=("podium train (BASE)=train_base")
compare "1. cached train re-run, $SIZE_MIB MiB of input and output (target: < 100 ms)" "${args[@]}"
rm -rf "$t"

# 2. A cached 4-step DAG over DAG_MIB: every intermediate file is an
# output of one step and the input of one or two more.
d=$work/dag
mkdir -p "$d/data"
head -c "$((DAG_MIB / 4))M" /dev/urandom >"$d/data/raw.bin"
cat >"$d/podium.yaml" <<'EOF'
version: 1
model: dag
pipeline:
  - name: prepare
    run: mkdir -p mid && cp data/raw.bin mid/a.bin && printf 1 >> mid/a.bin
    inputs: [data/raw.bin]
    outputs: [mid/a.bin]
  - name: features
    run: cp mid/a.bin mid/b.bin && printf 2 >> mid/b.bin
    needs: [prepare]
    inputs: [mid/a.bin]
    outputs: [mid/b.bin]
  - name: train
    run: mkdir -p model && cp mid/b.bin model/m.bin && printf 3 >> model/m.bin
    needs: [features]
    inputs: [mid/b.bin]
    outputs: [model/]
  - name: evaluate
    run: cat model/m.bin mid/a.bin | wc -c > score.txt
    needs: [train, prepare]
    inputs: [model/, mid/a.bin]
    outputs: [score.txt]
EOF
"$work/podium" train --spec "$d/podium.yaml" >/dev/null 2>&1
dag_nocache() { "$work/podium" train --spec "$d/podium.yaml" --no-stat-cache; }
dag_once() { (cd "$d" && "$work/podium" fingerprint --no-stat-cache data/raw.bin mid/a.bin mid/b.bin model score.txt); }
dag_new() { "$work/podium" train --spec "$d/podium.yaml"; }
dag_base() { "$base" train --spec "$d/podium.yaml"; }
"$work/podium" train --spec "$d/podium.yaml" >/dev/null 2>&1
args=("fingerprint each path once=dag_once" "podium train --no-stat-cache=dag_nocache" "podium train (stat cache)=dag_new")
[[ -n $base ]] && args+=("podium train (BASE)=dag_base")
compare "2. cached 4-step DAG over $DAG_MIB MiB (target: --no-stat-cache within 1.2x of each path once)" "${args[@]}"
rm -rf "$d"

# 3. The weather example with an undeclared directory of many files.
w=$work/weather
cp -r "$root/examples/weather" "$w"
rm -rf "$w/.podium/run" "$w/.podium/cache" "$w/bin" "$w/model"
printf 'module github.com/podium-ml/podium/examples/weather\n\ngo 1.24\n' >"$w/go.mod"
"$work/podium" train --spec "$w/podium.yaml" >/dev/null 2>&1 || { echo "weather: train failed" >&2; exit 1; }
"$work/podium" train --spec "$w/podium.yaml" >/dev/null 2>&1
mkdir -p "$work/venv/lib"
(cd "$work/venv/lib" && seq -w 1 "$TINY_FILES" | split -l 1 -a 6 - f-)
weather_without() { "$work/podium" train --spec "$w/podium.yaml"; }
weather_with() {
	mv "$work/venv" "$w/.venv"
	"$work/podium" train --spec "$w/podium.yaml"
	mv "$w/.venv" "$work/venv"
}
weather_base_without() { "$base" train --spec "$w/podium.yaml"; }
weather_base_with() {
	mv "$work/venv" "$w/.venv"
	"$base" train --spec "$w/podium.yaml"
	mv "$w/.venv" "$work/venv"
}
args=("without .venv=weather_without" "with $TINY_FILES-file .venv=weather_with")
[[ -n $base ]] && args+=("BASE without .venv=weather_base_without" "BASE with .venv=weather_base_with")
compare "3. cached weather example (target: with .venv within 1.2x of without)" "${args[@]}"
rm -rf "$work/venv" "$w"

# 4. Start-up.
version_new() { "$work/podium" version; }
version_base() { "$base" version; }
git_version() { git --version; }
args=("git --version=git_version" "podium version=version_new")
[[ -n $base ]] && args+=("podium version (BASE)=version_base")
RUNS=$((RUNS * 4)) compare "4. start-up (target: podium version < 15 ms)" "${args[@]}"
