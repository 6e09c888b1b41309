#!/usr/bin/env bash
# Benchmark `podium drift` against the same statistics written with pandas,
# numpy and scipy (bench/drift_pandas.py; Debian's python3-pandas and
# python3-scipy, installed by this script when missing).
#
# It writes a seeded 1,000,000-row x 20-column CSV pair (16 numeric columns,
# 4 categorical; the current file shifted; bench/gen_data.py), runs both,
# checks that they agree (KS to 1e-9, PSI, L-infinity and JS to 1e-6, the KS
# p-value to 5e-3: podium's asymptotic formula against scipy's), and prints
# wall and CPU time, peak RSS and the ratios, from one run of each.
# Targets: podium at least 12x faster (wall clock) and at most 1/4 of the
# peer's peak RSS.
#
# Usage: bash bench/drift.sh            (from the repository root)
#   ROWS=100000 bash bench/drift.sh      a smaller run
#   BENCH_DIR=/path bash bench/drift.sh  where the data is kept (reused; default $TMPDIR)
# Exits 1 when the two disagree, or when STRICT=1 and a target is missed.
set -euo pipefail

rows=${ROWS:-1000000}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/podium-drift-bench-$rows}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
# shellcheck source=bench/lib.bash
source "$root/bench/lib.bash"

need_pandas
echo "building podium" >&2
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$dir/podium" ./cmd/podium)
make_data "$rows" "$dir"
ls -l "$dir/reference.csv" "$dir/current.csv" >&2

echo "timing podium drift" >&2
measure "$dir/podium.json" "$dir/podium.stats" \
	"$dir/podium" drift --reference "$dir/reference.csv" --current "$dir/current.csv" --json
echo "timing pandas + scipy (bench/drift_pandas.py)" >&2
measure "$dir/peer.json" "$dir/peer.stats" \
	"$PY" "$root/bench/drift_pandas.py" "$dir/reference.csv" "$dir/current.csv"

"$PY" "$root/bench/compare.py" drift "$dir" "$rows" 12 0.25
