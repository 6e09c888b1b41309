#!/usr/bin/env bash
# The whole podium loop on the weather example, in a throwaway git
# repository under .demo/ (with a bare "origin" beside it, as CI has):
#
#   validate -> test -> train -> train again (cached) -> compare (no
#   champion yet) -> record -> report -> propose --dry-run -> "merge" the
#   proposal -> train on main (unchanged: nothing to propose) -> a param
#   change re-runs only train -> compare (reject) -> log -> drift
#
# Nothing outside .demo/ is touched, and nothing reaches the network.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
podium="$root/bin/podium"
demo="$root/.demo"
work="$demo/weather"
origin="$demo/origin.git"

[ -x "$podium" ] || { echo "demo: $podium is missing; run 'make build' first" >&2; exit 1; }

# A fixed identity keeps the demo independent of the machine's git config.
export GIT_AUTHOR_NAME="podium demo" GIT_AUTHOR_EMAIL="demo@podium.invalid"
export GIT_COMMITTER_NAME="podium demo" GIT_COMMITTER_EMAIL="demo@podium.invalid"
export GIT_CONFIG_NOSYSTEM=1 GOFLAGS=-mod=mod

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ podium %s\n' "$*"; "$podium" "$@"; }
since() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.2f s", e - s }'; }

step "Set up a throwaway repository from examples/weather"
rm -rf "$demo"
mkdir -p "$work"
# The example's files as a user would have them: tracked or new, not the
# outputs a previous run left behind (those are git-ignored).
(cd "$root" && git ls-files -co --exclude-standard -- examples/weather) |
  while IFS= read -r f; do
    rel=${f#examples/weather/}
    mkdir -p "$work/$(dirname "$rel")"
    cp "$root/$f" "$work/$rel"
  done
# The example's Go code lives in podium's module; on its own it needs a
# go.mod (standard library only, so nothing is downloaded).
printf 'module github.com/podium-ml/podium/examples/weather\n\ngo 1.26\n' > "$work/go.mod"
git init -q --bare -b main "$origin"
cd "$work"
git init -q -b main
git remote add origin "$origin"
git add -A && git commit -qm "weather classifier: pipeline, data and deploy manifest"
git push -q origin main
git remote set-head origin main
echo "repository: $work (origin: $origin)"

step "Validate the spec"
run validate

step "Build and test the pipeline's components"
run test

step "Train: every step runs"
start=$EPOCHREALTIME
run train
echo "first train: $(since "$start")"

step "Train again: nothing changed, so every step is cached"
start=$EPOCHREALTIME
run train
echo "second train: $(since "$start")"

step "Compare with the champion (there is none yet: only the absolute bounds apply)"
run compare --run-dir .podium/run

step "Record the evidence and attach it to the commit as a git note"
run record --run-dir .podium/run --git-note

step "The review report a PR would get"
run report --run-dir .podium/run --out "$demo/report.md"
echo "report: $demo/report.md"

step "The deployment PR, as a dry run (no code host here)"
run propose --run-dir .podium/run --dry-run | tee "$demo/proposal.diff"

step "A reviewer merges the deployment PR: apply the proposal on main"
git apply --index "$demo/proposal.diff"
git commit -qm "Deploy weather-classifier (merged deployment PR)"
git push -q origin main
run registry show

step "Train again on main after the merge: the champion's own model, so nothing to propose"
run train
run compare --run-dir .podium/run | tee "$demo/compare-main.txt"
grep -q '^unchanged ' "$demo/compare-main.txt" ||
  { echo "demo: expected the retrained champion to be unchanged" >&2; exit 1; }
run propose --run-dir .podium/run --dry-run

step "A weaker candidate: fewer epochs, a param only train uses (build, prepare, profile stay cached)"
sed -i 's/^  epochs: .*/  epochs: 5/' podium.yaml
git commit -qam "try fewer epochs"
run train --run-dir .podium/run-weak | tee "$demo/train-weak.txt"
for s in build prepare profile; do
  grep -Eq "^$s +cached " "$demo/train-weak.txt" ||
    { echo "demo: expected step $s to stay cached when only epochs changed" >&2; exit 1; }
done
grep -Eq "^train +ok " "$demo/train-weak.txt" ||
  { echo "demo: expected step train to re-run when epochs changed" >&2; exit 1; }
set +e
run compare --run-dir .podium/run-weak --fail-on-reject
code=$?
set -e
echo "compare exit code: $code (3 = the gate rejected the candidate)"
[ "$code" -eq 3 ] || { echo "demo: expected the weaker candidate to be rejected" >&2; exit 1; }

step "Lineage from git alone: the records reachable from HEAD"
run log

# --- data validation (podium data): a separate block ---
step "Data validation: the training data passes the committed data schema"
run data check --schema data.schema.yaml data/weather.csv

step "Data validation: a broken file (a new category, out-of-range values, no wind column) is rejected"
broken="$demo/weather-broken.csv"
# Drop column 6 (wind); row 5 gets the category "hail", rows 9 and 10 an
# impossible temp_max.
awk -F, -v OFS=, '{
  if (NR == 6) $7 = "hail"
  if (NR == 10 || NR == 11) $4 = "99.5"
  line = $1; for (i = 2; i <= NF; i++) if (i != 6) line = line OFS $i
  print line
}' data/weather.csv > "$broken"
set +e
run data check --schema data.schema.yaml "$broken" --fail-on-reject
code=$?
set -e
echo "data check exit code: $code (3 = the data was rejected)"
[ "$code" -eq 3 ] || { echo "demo: expected the broken data to be rejected" >&2; exit 1; }

step "Data validation in the pipeline: train refuses the broken data before any step runs"
cp "$broken" data/weather.csv
set +e
run train --run-dir .podium/run-broken
code=$?
set -e
git checkout -q -- data/weather.csv
[ "$code" -ne 0 ] || { echo "demo: expected train to refuse the broken data" >&2; exit 1; }
echo "train exit code: $code (no step ran)"
# --- end of data validation ---

step "Monitoring: has the input data drifted since training?"
run drift --reference "$root/examples/drift/reference.csv" --current "$root/examples/drift/current.csv"

printf '\n\033[1mdemo complete:\033[0m the loop ran end to end in %s\n' "$demo"
