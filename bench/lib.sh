# Shared by bench/fingerprint.sh, bench/cached.sh and bench/compare.sh
# (sourced; not a bench itself). The caller sets RUNS and root.

# setup_work: a private work directory (removed on exit unless KEEP is
# set), its own user cache directory for podium fingerprint's stat cache,
# podium built into $work/podium, and podium at BASE (a git revision) into
# $work/podium-base when BASE is set ($base is then its path, else "").
setup_work() {
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
	echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (other work on the machine slows wall times; CPU times are steadier)" >&2
}

# ms NAME CMD...: runs CMD once, appends its wall time and its CPU time
# (user + system, children included) in us to $work/t.NAME and $work/c.NAME.
ms() {
	local name=$1 out TIMEFORMAT='%3R %3U %3S'
	shift
	out=$({ time "$@" >"$work/out" 2>&1; } 2>&1)
	read -r wall user sys <<<"$out"
	echo "$wall" | awk '{printf "%d\n", $1*1000000}' >>"$work/t.$name"
	echo "$user $sys" | awk '{printf "%d\n", ($1+$2)*1000000}' >>"$work/c.$name"
}

# median FILE: the median of $work/FILE, us to ms.
median() { sort -n "$work/$1" | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }

# compare LABEL NAME=FUNC...: alternates the functions (A B A B ...) RUNS
# times, so that load on the machine falls on each alike, and prints each
# median wall and CPU time and the wall ratio to the first.
compare() {
	local label=$1 spec name first
	shift
	rm -f "$work"/t.* "$work"/c.*
	for _ in $(seq "$RUNS"); do
		for spec in "$@"; do
			ms "${spec%%=*}" "${spec#*=}"
		done
	done
	first=$(median "t.${1%%=*}")
	echo "$label"
	for spec in "$@"; do
		name=${spec%%=*}
		printf '  %-40s %9s ms wall %6.2fx  %9s ms cpu\n' "$name" "$(median "t.$name")" "$(echo "$(median "t.$name") / $first" | bc -l)" "$(median "c.$name")"
	done
}
