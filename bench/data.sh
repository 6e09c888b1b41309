#!/usr/bin/env bash
# Benchmark `podium data check` and `podium drift` on CSV and Parquet
# against the same checks and statistics written with pandas + scipy
# (bench/data_pandas.py, bench/drift_pandas.py; Debian's python3-pandas and
# python3-scipy, installed by this script when missing).
#
# Data: bench/gen_data.py's seeded 1,000,000-row x 20-column pair (16
# numeric, 4 categorical columns; the current file shifted, with a new
# category). The schema is `podium data infer` of the reference; the check
# runs on the current file. The Parquet copies are written by DuckDB (npm
# @duckdb/node-api, snappy). Debian has no pyarrow, so pandas cannot read
# Parquet: its side reads the same data as CSV in every row of the table.
# Both sides must give the same answers (the same violations with the same
# row counts; the drift statistics as bench/drift.sh checks them).
# Targets: podium at least 3x faster and at most 1/2 of the peer's peak RSS.
#
# Usage: bash bench/data.sh             (from the repository root)
#   ROWS=100000 RUNS=1 bash bench/data.sh   a quick run
#   (more settings in bench/lib-data.bash; BASE is not used here)
# Exits 1 when the two disagree, or when STRICT=1 and a target is missed.
set -euo pipefail

# shellcheck source=bench/lib-data.bash
source "$(dirname "$0")/lib-data.bash"
setup_data

if [[ ! -s $dir/current.parquet || ! -s $dir/reference.parquet ]]; then
	echo "writing Parquet copies with DuckDB (npm @duckdb/node-api)" >&2
	mkdir -p "$dir/npm"
	(cd "$dir/npm" && [[ -d node_modules/@duckdb/node-api ]] || npm install --no-audit --no-fund --silent @duckdb/node-api@1.5.6-r.1 >&2)
	cat >"$dir/npm/to-parquet.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const con = await (await DuckDBInstance.create(':memory:')).connect();
for (const name of ['reference', 'current']) {
  const dir = process.argv[2];
  await con.run(`COPY (SELECT * FROM read_csv('${dir}/${name}.csv', header = true)) TO '${dir}/${name}.parquet' (FORMAT parquet, COMPRESSION snappy)`);
}
JS
	(cd "$dir/npm" && node to-parquet.mjs "$dir")
fi
ls -l "$dir"/reference.* "$dir"/current.* >&2

"$dir/podium" data infer --reference "$dir/reference.csv" --out "$dir/schema.yaml"

status=0
for ((i = 1; i <= runs; i++)); do
	for fmt in csv parquet; do
		echo "run $i of $runs: podium data check and drift ($fmt)" >&2
		measure "$dir/podium-check-$fmt.json" "$dir/podium-check-$fmt.stats" \
			"$dir/podium" data check --schema "$dir/schema.yaml" "$dir/current.$fmt" --json
		measure "$dir/podium-drift-$fmt.json" "$dir/podium-drift-$fmt.stats" \
			"$dir/podium" drift --reference "$dir/reference.$fmt" --current "$dir/current.$fmt" --json
	done
	echo "run $i of $runs: pandas data checks and drift (bench/data_pandas.py, bench/drift_pandas.py)" >&2
	measure "$dir/peer-check.json" "$dir/peer-check.stats" "$PY" "$root/bench/data_pandas.py" "$dir/schema.yaml" "$dir/current.csv"
	measure "$dir/peer-drift.json" "$dir/peer-drift.stats" "$PY" "$root/bench/drift_pandas.py" "$dir/reference.csv" "$dir/current.csv"
done

for fmt in csv parquet; do
	for what in check drift; do
		cp "$dir/peer-$what.json" "$dir/peer-$what-$fmt.json"
		cp "$dir/peer-$what.stats" "$dir/peer-$what-$fmt.stats"
		kind=data
		[[ $what == drift ]] && kind=drift
		echo
		"$PY" "$root/bench/compare.py" "$kind" "$dir" "$rows" 3 0.5 "-$what-$fmt" || status=1
	done
done
exit $status
