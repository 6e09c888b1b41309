#!/usr/bin/env bash
# bench/remote-cache.sh: a fully cached `podium train` whose one step's
# output tree (SIZE_MIB, default 1 GiB) is restored from a real OCI
# registry on loopback (Debian's docker-registry, scripts/registry.sh),
# against the same tree restored by tar from a local directory. Prints
# both times and the ratio (target: within 1.5x of tar).
#
#   bench/remote-cache.sh
#   SIZE_MIB=256 RUNS=1 bench/remote-cache.sh
#   TMPDIR=/dev/shm bench/remote-cache.sh   # in memory: no disk writeback noise
#
# The podium side is the whole command on a clean checkout: load the spec,
# look the step up (one manifest GET), download the layer, check its
# sha256 and size while extracting it, fingerprint the restored tree
# against the entry, and write run.json. The tar side only copies:
# `tar -C src -cf - out | tar -C dst -xf -`. Both read the blobs from the
# page cache (each is timed best-of-RUNS after a warm-up), so this
# measures the restore, not the disk.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/podium-bench.XXXXXX")
reg_pid=""
cleanup() {
	[[ -n $reg_pid ]] && kill "$reg_pid" 2>/dev/null
	[[ -n ${KEEP:-} ]] || rm -rf "$work" "${PODIUM_TEST_REGISTRY_DIR:-/nonexistent}"
}
trap cleanup EXIT

bash "$root/scripts/registry.sh" install >/dev/null
eval "$(bash "$root/scripts/registry.sh" start)"
reg_pid=$PODIUM_TEST_REGISTRY_PID
remote="oci://$PODIUM_TEST_REGISTRY/podium/bench"

echo "building podium..." >&2
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$work/podium" ./cmd/podium)

# The step writes its tree from a seed directory made once: 8 files of
# SIZE_MIB/16 and 1024 small ones, so the tree has both shapes.
seed=$work/seed
mkdir -p "$seed/big" "$seed/small"
big_mib=$((SIZE_MIB / 16))
echo "generating $SIZE_MIB MiB..." >&2
for i in 0 1 2 3 4 5 6 7; do head -c "${big_mib}M" /dev/urandom >"$seed/big/shard-$i.bin"; done
small_kib=$((SIZE_MIB * 1024 / 2 / 1024))
for i in $(seq 0 1023); do head -c "${small_kib}K" /dev/urandom >"$seed/small/part-$i.bin"; done

spec="version: 1
model: bench
cache: {remote: \"$remote\"}
pipeline:
  - {name: produce, run: \"cp -r $seed out\", outputs: [out/]}"

mkdir -p "$work/first"
printf '%s\n' "$spec" >"$work/first/podium.yaml"
echo "first run: produce the tree and push it..." >&2
(cd "$work/first" && "$work/podium" train --cache-write >/dev/null 2>"$work/first.log") || { cat "$work/first.log" >&2; exit 1; }

now() { date +%s.%N; }
best() { sort -n | head -1; }

podium_times=()
for r in $(seq 0 "$RUNS"); do
	rm -rf "$work/clean"
	mkdir -p "$work/clean"
	printf '%s\n' "$spec" >"$work/clean/podium.yaml"
	sync
	start=$(now)
	(cd "$work/clean" && "$work/podium" train >/dev/null 2>"$work/clean.log") || { cat "$work/clean.log" >&2; exit 1; }
	end=$(now)
	grep -q '"status": "cached"' "$work/clean/.podium/run/run.json" || { echo "the clean run did not restore the step" >&2; cat "$work/clean.log" >&2; exit 1; }
	# Run 0 warms the page cache.
	[[ $r -gt 0 ]] && podium_times+=("$(echo "$end - $start" | bc)")
done

tar_times=()
for r in $(seq 0 "$RUNS"); do
	rm -rf "$work/tar"
	mkdir -p "$work/tar"
	sync
	start=$(now)
	tar -C "$work/first" -cf - out | tar -C "$work/tar" -xf -
	end=$(now)
	[[ $r -gt 0 ]] && tar_times+=("$(echo "$end - $start" | bc)")
done

p=$(printf '%s\n' "${podium_times[@]}" | best)
t=$(printf '%s\n' "${tar_times[@]}" | best)
printf 'tree: %d MiB (8 large files, 1024 small)\n' "$SIZE_MIB"
printf 'podium train, restored from the registry: %6.2f s\n' "$p"
printf 'tar from a local directory:               %6.2f s\n' "$t"
printf 'ratio: %.2fx (target: within 1.5x)\n' "$(echo "$p / $t" | bc -l)"
