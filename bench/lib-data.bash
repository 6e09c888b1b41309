# Shared by bench/drift.sh and bench/data.sh (sourced; not a bench itself,
# so it is not named *.sh: `make bench` runs every bench/*.sh).
#
# Environment, for both scripts:
#   ROWS=1000000     rows per file (x 20 columns)
#   RUNS=3           runs of each side, alternated; the figures are medians
#   BENCH_DIR=/path  where the data is kept (reused; default $TMPDIR)
#   BASE=<git rev>   also time podium built at that revision (before/after)
#   STRICT=1         exit 1 when a target is missed

# PY is Debian's python3, which python3-pandas and python3-scipy install
# into (a python3 earlier in PATH, e.g. pyenv's, would not see them).
PY=/usr/bin/python3

# need_pandas installs the peer's libraries from Debian when they are missing.
need_pandas() {
	if "$PY" -c 'import pandas, scipy, numpy' 2>/dev/null; then
		return
	fi
	echo "installing python3-pandas and python3-scipy (apt-get)" >&2
	local sudo=
	[[ $(id -u) -eq 0 ]] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-pandas python3-scipy >/dev/null
}

# setup_data: the common start of both scripts. Sets rows, runs, dir and
# root; installs the peer; builds podium (and $BASE's, as $dir/podium-base);
# writes the seeded data once.
setup_data() {
	rows=${ROWS:-1000000}
	runs=${RUNS:-3}
	root=$(cd "$(dirname "$0")/.." && pwd)
	dir=${BENCH_DIR:-${TMPDIR:-/tmp}/podium-drift-bench-$rows}
	mkdir -p "$dir"
	need_pandas
	echo "building podium" >&2
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$dir/podium" ./cmd/podium)
	if [[ -n ${BASE:-} ]]; then
		echo "building podium at $BASE" >&2
		rm -rf "$dir/base-src" && mkdir -p "$dir/base-src"
		git -C "$root" archive "$BASE" | tar -x -C "$dir/base-src"
		(cd "$dir/base-src" && CGO_ENABLED=0 go build -trimpath -o "$dir/podium-base" ./cmd/podium)
	fi
	if [[ ! -s $dir/current.csv || ! -s $dir/reference.csv ]]; then
		echo "writing $rows rows x 20 columns to $dir (once; reused by later runs)" >&2
		"$PY" "$root/bench/gen_data.py" "$rows" "$dir"
	fi
	rm -f "$dir"/*.stats "$dir/load"
}

# measure OUT STATS CMD...: runs CMD with stdout to OUT and appends
# "wall user sys maxrss_kb" to STATS (one line a run; compare.py takes
# medians). The load average before the run goes to $dir/load.
measure() {
	local out=$1 stats=$2
	shift 2
	cut -d' ' -f1 /proc/loadavg >>"$dir/load" 2>/dev/null || true
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -a -o "$stats" -f "%e %U %S %M" "$@" >"$out"
	else
		"$PY" - "$stats" "$@" >"$out" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[2:], check=True)
wall = time.monotonic() - start
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "a") as f:
    f.write(f"{wall:.2f} {ru.ru_utime:.2f} {ru.ru_stime:.2f} {ru.ru_maxrss}\n")
PY
	fi
}
