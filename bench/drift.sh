#!/usr/bin/env bash
# Benchmark `podium drift` against the same statistics written with pandas,
# numpy and scipy (bench/drift_pandas.py; Debian's python3-pandas and
# python3-scipy, installed by this script when missing).
#
# It writes a seeded 1,000,000-row x 20-column CSV pair (16 numeric columns,
# 4 categorical; the current file shifted; bench/gen_data.py), runs both
# RUNS times, alternated, checks that they agree (KS to 1e-9, PSI,
# L-infinity and JS to 1e-6, the KS p-value to 5e-3: podium's asymptotic
# formula against scipy's), and prints the medians of wall and CPU
# (user+sys) time and peak RSS, the ratios, and the load average the runs
# saw (pandas is single-threaded and podium uses every core, so a loaded
# machine hurts podium's wall time more than the peer's).
# Targets: podium at least 12x faster (wall clock) and at most 1/4 of the
# peer's peak RSS.
#
# Usage: bash bench/drift.sh             (from the repository root)
#   ROWS=100000 RUNS=1 bash bench/drift.sh   a quick run
#   BASE=main bash bench/drift.sh            also time podium built at main
#   (more settings in bench/lib-data.bash)
# Exits 1 when the two disagree, or when STRICT=1 and a target is missed.
set -euo pipefail

# shellcheck source=bench/lib-data.bash
source "$(dirname "$0")/lib-data.bash"
setup_data
ls -l "$dir/reference.csv" "$dir/current.csv" >&2

for ((i = 1; i <= runs; i++)); do
	echo "run $i of $runs: podium drift, then pandas + scipy (bench/drift_pandas.py)" >&2
	measure "$dir/podium.json" "$dir/podium.stats" \
		"$dir/podium" drift --reference "$dir/reference.csv" --current "$dir/current.csv" --json
	if [[ -n ${BASE:-} ]]; then
		measure "$dir/podium-base.json" "$dir/podium-base.stats" \
			"$dir/podium-base" drift --reference "$dir/reference.csv" --current "$dir/current.csv" --json
	fi
	measure "$dir/peer.json" "$dir/peer.stats" \
		"$PY" "$root/bench/drift_pandas.py" "$dir/reference.csv" "$dir/current.csv"
done

"$PY" "$root/bench/compare.py" drift "$dir" "$rows" 12 0.25
