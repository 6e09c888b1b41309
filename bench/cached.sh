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
# the same alternation, for before/after figures. Both use the spec's
# stat cache file: a BASE that writes it in another format (before the
# v2 format, ab28ab9 and older) makes each run find the other's file
# damaged and hash every file, so its "(stat cache)" figures are then
# cold ones; compare such a BASE by the --no-stat-cache rows.
#
#   bench/cached.sh
#   RUNS=9 BASE=main bench/cached.sh
set -euo pipefail

RUNS=${RUNS:-5}
SIZE_MIB=${SIZE_MIB:-2048}
DAG_MIB=${DAG_MIB:-1024}
TINY_FILES=${TINY_FILES:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
setup_work

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

# 3. The weather example with an undeclared directory of many files (a
# .venv): two copies of the example, both cached, one with the directory
# beside its spec; only podium is timed.
weather() { # DIR: a cached copy of the weather example in DIR
	cp -r "$root/examples/weather" "$1"
	rm -rf "$1/.podium/run" "$1/.podium/cache" "$1/bin" "$1/model"
	printf 'module github.com/podium-ml/podium/examples/weather\n\ngo 1.24\n' >"$1/go.mod"
	"$work/podium" train --spec "$1/podium.yaml" >/dev/null 2>&1 || { echo "weather: train failed" >&2; exit 1; }
	"$work/podium" train --spec "$1/podium.yaml" >/dev/null 2>&1
}
w=$work/weather
wv=$work/weather-venv
weather "$w"
weather "$wv"
mkdir -p "$wv/.venv/lib"
(cd "$wv/.venv/lib" && seq -w 1 "$TINY_FILES" | split -l 1 -a 6 - f-)
weather_without() { "$work/podium" train --spec "$w/podium.yaml"; }
weather_with() { "$work/podium" train --spec "$wv/podium.yaml"; }
weather_base_without() { "$base" train --spec "$w/podium.yaml"; }
weather_base_with() { "$base" train --spec "$wv/podium.yaml"; }
args=("without .venv=weather_without" "with $TINY_FILES-file .venv=weather_with")
[[ -n $base ]] && args+=("BASE without .venv=weather_base_without" "BASE with .venv=weather_base_with")
compare "3. cached weather example (target: with .venv within 1.2x of without)" "${args[@]}"
rm -rf "$wv" "$w"

# 4. Start-up.
version_new() { "$work/podium" version; }
version_base() { "$base" version; }
git_version() { git --version; }
args=("git --version=git_version" "podium version=version_new")
[[ -n $base ]] && args+=("podium version (BASE)=version_base")
RUNS=$((RUNS * 4)) compare "4. start-up (target: podium version < 15 ms)" "${args[@]}"
