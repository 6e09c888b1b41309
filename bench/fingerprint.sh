#!/usr/bin/env bash
# bench/fingerprint.sh: time `podium fingerprint DIR` against the sha256sum
# pipeline README.md gives for checking a directory digest, on a tree shaped
# like a model and its data: a few large files and many small ones in
# nested directories. Prints both times, the ratio, and checks that both
# give the same digest (exit 1 if not).
#
#   bench/fingerprint.sh            # 2 GiB: 4 x 256 MiB + 16 dirs x 1024 x 64 KiB
#   SIZE_MIB=512 bench/fingerprint.sh
#   RUNS=5 KEEP=1 bench/fingerprint.sh
#   BASE=main bench/fingerprint.sh   # also time podium built at BASE
#
# Both tools read from the page cache (the tree is read once before timing,
# and each is timed best-of-RUNS), so this measures hashing, not the disk.
# podium hashes files on every CPU with Go's SHA-256, which uses the SHA-NI
# instructions when the CPU has them; GNU sha256sum hashes one file at a
# time without them. A single file's SHA-256 cannot be split (each block
# depends on the previous one), so the speed-up comes from files hashed in
# parallel, times the per-core gain.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-2048}
RUNS=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
setup_work

# Half the bytes in 4 large files, half in 64 KiB files spread over 16 dirs.
tree=$work/tree
large_mib=$((SIZE_MIB / 2 / 4))
small_dirs=16
small_per_dir_mib=$((SIZE_MIB / 2 / small_dirs))
echo "generating $SIZE_MIB MiB in $tree..." >&2
mkdir -p "$tree/weights"
head -c "$((large_mib))M" /dev/urandom >"$tree/weights/shard-0.bin"
for i in 1 2 3; do
	# Same bytes as shard 0 but for the first one: hashing cost is what counts.
	cp "$tree/weights/shard-0.bin" "$tree/weights/shard-$i.bin"
	printf '%d' "$i" | dd of="$tree/weights/shard-$i.bin" bs=1 count=1 conv=notrunc status=none
done
for d in $(seq -w 1 "$small_dirs"); do
	mkdir -p "$tree/features/part-$d"
	head -c "$((small_per_dir_mib))M" /dev/urandom | split -b 64K -a 4 - "$tree/features/part-$d/chunk-"
done
files=$(find "$tree" -type f | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
echo "tree: $files files, $bytes bytes; $(nproc) CPUs; sha_ni: $(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no)" >&2

# Warm the page cache so both tools read from memory.
find "$tree" -type f -exec cat {} + >/dev/null

now() { date +%s.%N; }
best() { # best wall time in seconds of RUNS runs of "$@"; the last output in $work/out
	local b="" t0 t1 t
	for _ in $(seq "$RUNS"); do
		t0=$(now)
		"$@" >"$work/out"
		t1=$(now)
		t=$(echo "$t1 - $t0" | bc -l)
		if [[ -z $b ]] || (($(echo "$t < $b" | bc -l))); then b=$t; fi
	done
	printf '%.3f' "$b"
}

shell_digest() {
	cd "$tree" && find -L . -type f -print0 | LC_ALL=C sort -z | sed -z 's|^\./||' | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
podium_digest() {
	"$work/podium" fingerprint --no-stat-cache "$tree" | cut -d' ' -f1
}

t_podium=$(best podium_digest)
d_podium=$(cat "$work/out")
t_shell=$(best shell_digest)
d_shell=sha256:$(cat "$work/out")

ratio=$(echo "$t_shell / $t_podium" | bc -l)
mib_s() { echo "$bytes / 1048576 / $1" | bc -l; }
printf 'podium fingerprint: %ss (%.0f MiB/s)\n' "$t_podium" "$(mib_s "$t_podium")"
printf 'sha256sum pipeline: %ss (%.0f MiB/s)\n' "$t_shell" "$(mib_s "$t_shell")"
printf 'speed-up:           %.1fx\n' "$ratio"
echo "digest (podium):    $d_podium"
echo "digest (sha256sum): $d_shell"
if [[ $d_podium != "$d_shell" ]]; then
	echo "FAIL: the digests differ" >&2
	exit 1
fi
echo "digests match"

# With the stat cache warm: medians of RUNS, alternated with the full hash
# (and BASE), wall and CPU time.
warm() {
	local dir=$1 label=$2 target=$3 d_warm d_cold
	"$work/podium" fingerprint "$dir" >/dev/null # fills the stat cache
	sleep 0.2                                   # past the racy window: files just written are hashed again once
	"$work/podium" fingerprint "$dir" >/dev/null
	# BASE keeps its own stat cache: a podium whose cache file has another
	# format would find this one damaged and rewrite it, and each would
	# run cold.
	if [[ -n $base ]]; then
		XDG_CACHE_HOME=$work/xdg-base "$base" fingerprint "$dir" >/dev/null
	fi
	fp_warm() { "$work/podium" fingerprint "$dir"; }
	fp_cold() { "$work/podium" fingerprint --no-stat-cache "$dir"; }
	fp_base() { XDG_CACHE_HOME=$work/xdg-base "$base" fingerprint "$dir"; }
	d_warm=$(fp_warm | cut -d' ' -f1)
	d_cold=$(fp_cold | cut -d' ' -f1)
	if [[ $d_warm != "$d_cold" ]]; then
		echo "FAIL: the digest through the stat cache differs" >&2
		exit 1
	fi
	local args=("podium fingerprint (stat cache warm)=fp_warm" "podium fingerprint --no-stat-cache=fp_cold")
	[[ -n $base ]] && args+=("podium fingerprint (BASE)=fp_base")
	compare "$label (target: $target)" "${args[@]}"
}
warm "$tree" "second podium fingerprint, $files files" "< 50 ms"

rm -rf "$tree"
tiny=$work/tiny
TINY_FILES=${TINY_FILES:-100000}
mkdir -p "$tiny"
echo "generating $TINY_FILES tiny files in $tiny..." >&2
for d in $(seq -w 1 100); do
	mkdir -p "$tiny/$d"
	head -c "$((TINY_FILES / 100 * 500))" /dev/urandom | split -b 500 -a 4 - "$tiny/$d/f-"
done
find "$tiny" -type f -exec cat {} + >/dev/null
warm "$tiny" "second podium fingerprint, $(find "$tiny" -type f | wc -l) tiny files" "< 300 ms"
