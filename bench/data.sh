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
#   ROWS=100000 bash bench/data.sh       a smaller run
#   BENCH_DIR=/path bash bench/data.sh   where the data is kept (reused; default $TMPDIR)
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
for fmt in csv parquet; do
	echo "timing podium data check ($fmt)" >&2
	measure "$dir/podium-check-$fmt.json" "$dir/podium-check-$fmt.stats" \
		"$dir/podium" data check --schema "$dir/schema.yaml" "$dir/current.$fmt" --json
	echo "timing podium drift ($fmt)" >&2
	measure "$dir/podium-drift-$fmt.json" "$dir/podium-drift-$fmt.stats" \
		"$dir/podium" drift --reference "$dir/reference.$fmt" --current "$dir/current.$fmt" --json
done
echo "timing pandas data checks (bench/data_pandas.py)" >&2
measure "$dir/peer-check.json" "$dir/peer-check.stats" "$PY" "$root/bench/data_pandas.py" "$dir/schema.yaml" "$dir/current.csv"
echo "timing pandas + scipy drift (bench/drift_pandas.py)" >&2
measure "$dir/peer-drift.json" "$dir/peer-drift.stats" "$PY" "$root/bench/drift_pandas.py" "$dir/reference.csv" "$dir/current.csv"

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
