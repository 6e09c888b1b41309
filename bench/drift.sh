#!/usr/bin/env bash
# Benchmark `podium drift` against a Python standard-library implementation
# of the same statistics (bench/drift_reference.py).
#
# It writes a seeded 1,000,000-row x 20-column CSV pair (16 numeric columns,
# 4 categorical; the current file shifted), times both implementations,
# prints wall and CPU time, their ratios and peak RSS, and checks that the
# results agree: KS to 1e-9 (podium computes it exactly), PSI to 1e-6.
# Targets: podium at least 20x faster (wall clock) with peak RSS under 200 MB.
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

echo "building podium" >&2
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$dir/podium" ./cmd/podium)

if [[ ! -s $dir/current.csv || ! -s $dir/reference.csv ]]; then
	echo "writing $rows rows x 20 columns to $dir (once; reused by later runs)" >&2
	python3 - "$rows" "$dir" <<'PY'
import os, random, sys

NUMERIC, CATEGORICAL = 16, 4
CATS = ["alpha", "beta", "gamma", "delta", "epsilon"]

def column(rng, j, shifted):
    # Columns 0, 4, 8, 12 keep their mean; the others move by 0.25-0.75.
    # Every fifth column widens. Kinds: normal, lognormal, uniform, counts.
    shift = 0.25 * (j % 4) if shifted else 0.0
    spread = 1.2 if shifted and j % 5 == 0 else 1.0
    kind = j % 4
    if kind == 0:
        return lambda: rng.gauss(shift, spread)
    if kind == 1:
        return lambda: rng.lognormvariate(shift, 0.5 * spread)
    if kind == 2:
        return lambda: rng.uniform(shift, 10 + shift)
    return lambda: float(int(rng.expovariate(1 / (20 + 10 * shift))))  # many ties

def write(path, rows, seed, shifted):
    rng = random.Random(seed)
    gens = [column(rng, j, shifted) for j in range(NUMERIC)]
    weights = [[5, 4, 3, 2, 1] for _ in range(CATEGORICAL)]
    cats = [list(CATS) for _ in range(CATEGORICAL)]
    if shifted:
        weights[1] = [1, 2, 3, 4, 5]       # the mix reverses
        cats[2] = CATS[:4] + ["zeta"]      # a new category
    header = [f"n{j:02d}" for j in range(NUMERIC)] + [f"c{j}" for j in range(CATEGORICAL)]
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        batch = []
        for _ in range(rows):
            cells = ["%.5f" % g() for g in gens]
            cells += [rng.choices(cats[j], weights[j])[0] for j in range(CATEGORICAL)]
            batch.append(",".join(cells))
            if len(batch) == 10000:
                f.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            f.write("\n".join(batch) + "\n")
    os.replace(tmp, path)

rows, out = int(sys.argv[1]), sys.argv[2]
write(os.path.join(out, "reference.csv"), rows, 1, False)
write(os.path.join(out, "current.csv"), rows, 2, True)
PY
fi
ls -l "$dir/reference.csv" "$dir/current.csv" >&2

# measure OUT STATS CMD...: runs CMD with stdout to OUT and writes
# "wall user sys maxrss_kb" to STATS.
measure() {
	local out=$1 stats=$2
	shift 2
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -o "$stats" -f "%e %U %S %M" "$@" >"$out"
	else
		python3 - "$stats" "$@" >"$out" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[2:], check=True)
wall = time.monotonic() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.2f} {ru.ru_utime:.2f} {ru.ru_stime:.2f} {ru.ru_maxrss}\n")
PY
	fi
}

echo "timing podium drift" >&2
measure "$dir/podium.json" "$dir/podium.stats" \
	"$dir/podium" drift --reference "$dir/reference.csv" --current "$dir/current.csv" --json
echo "timing bench/drift_reference.py (a few minutes)" >&2
measure "$dir/python.json" "$dir/python.stats" \
	python3 "$root/bench/drift_reference.py" "$dir/reference.csv" "$dir/current.csv"

python3 - "$dir" "$rows" <<'PY'
import json, os, sys

d, rows = sys.argv[1], int(sys.argv[2])
def stats(name):
    wall, user, sys_, rss = open(os.path.join(d, name + ".stats")).read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(rss) / 1024
pw, pc, pr = stats("podium")
yw, yc, yr = stats("python")
print(f"rows per file:   {rows:,} x 20 columns")
print(f"podium drift:    {pw:8.2f} s wall  {pc:8.2f} s CPU  peak RSS {pr:7.1f} MB")
print(f"python stdlib:   {yw:8.2f} s wall  {yc:8.2f} s CPU  peak RSS {yr:7.1f} MB")
print(f"speed-up:        {yw / pw:8.1f}x wall  {yc / pc:7.1f}x CPU")

pod = {c["column"]: c for c in json.load(open(os.path.join(d, "podium.json")))["columns"]}
ref = json.load(open(os.path.join(d, "python.json")))["columns"]
ks_err = psi_err = 0.0
problems = []
for c in ref:
    p = pod.get(c["column"])
    if p is None or p["kind"] != c["kind"]:
        problems.append(f"{c['column']}: kind {p and p['kind']} vs {c['kind']}")
        continue
    for stat, tol in (("ks", 1e-9), ("psi", 1e-6)):
        a, b = p.get(stat), c.get(stat)
        if (a is None) != (b is None):
            problems.append(f"{c['column']}: {stat} {a} vs {b}")
        elif a is not None:
            err = abs(a - b)
            if stat == "ks":
                ks_err = max(ks_err, err)
            else:
                psi_err = max(psi_err, err)
            if err > tol:
                problems.append(f"{c['column']}: {stat} {a} vs {b} (|diff| {err:.3g} > {tol:g})")
print(f"agreement:       max |KS diff| {ks_err:.3g} (tolerance 1e-9), max |PSI diff| {psi_err:.3g} (tolerance 1e-6), {len(ref)} columns")
ok = not problems
for p in problems:
    print("DISAGREE " + p)
speed_ok, rss_ok = yw / pw >= 20, pr < 200
print(f"targets:         speed-up >= 20x: {'met' if speed_ok else 'MISSED'}; peak RSS < 200 MB: {'met' if rss_ok else 'MISSED'}")
strict = os.environ.get("STRICT") == "1"
sys.exit(0 if ok and (not strict or (speed_ok and rss_ok)) else 1)
PY
