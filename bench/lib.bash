# Shared by bench/drift.sh and bench/data.sh (sourced; not a bench itself).

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

# measure OUT STATS CMD...: runs CMD with stdout to OUT and writes
# "wall user sys maxrss_kb" to STATS.
measure() {
	local out=$1 stats=$2
	shift 2
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -o "$stats" -f "%e %U %S %M" "$@" >"$out"
	else
		"$PY" - "$stats" "$@" >"$out" <<'PY'
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

# make_data ROWS DIR: the seeded reference.csv and current.csv (once).
make_data() {
	if [[ ! -s $2/current.csv || ! -s $2/reference.csv ]]; then
		echo "writing $1 rows x 20 columns to $2 (once; reused by later runs)" >&2
		"$PY" "$root/bench/gen_data.py" "$1" "$2"
	fi
}
