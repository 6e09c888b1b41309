#!/usr/bin/env bash
# Check podium's record schemas with Ajv (JSON Schema draft 2020-12), a
# validator independent of the one podium embeds: each schema compiles in
# strict mode, the golden records and in-toto statements the Go tests
# produce are valid, and the known-bad documents are rejected.
#
# Ajv comes from the npm registry at the versions tools/ajv/package-lock.json
# pins, installed once into a cache directory keyed by that lock file, so
# the work tree gets no node_modules. podium itself never needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."

key=$(cat tools/ajv/package.json tools/ajv/package-lock.json | sha256sum | cut -c1-16)
cache="${PODIUM_AJV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/podium/ajv-$key}"
if [ ! -x "$cache/node_modules/.bin/ajv" ]; then
  echo "check-schemas: installing Ajv into $cache" >&2
  rm -rf "$cache"
  mkdir -p "$cache"
  cp tools/ajv/package.json tools/ajv/package-lock.json "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

# ajv runs Ajv quietly, printing its report only when a check fails.
ajv() {
  local out
  if ! out=$("$cache/node_modules/.bin/ajv" "$@" --spec=draft2020 -c ajv-formats --strict=true --all-errors 2>&1); then
    printf '%s\n' "$out" >&2
    echo "check-schemas: failed: ajv $*" >&2
    return 1
  fi
  checked=$((checked + $(grep -c -e ' is valid$' -e ' passed test$' <<<"$out")))
}
checked=0

record=schemas/record.schema.json
statement=schemas/intoto-statement.schema.json
testdata=internal/record/testdata

ajv compile -s "$record"
ajv compile -s "$statement" -r "$record"

ajv test -s "$record" -d "$testdata/record*.golden.json" --valid
ajv test -s "$statement" -r "$record" -d "$testdata/statement*.golden.json" --valid

# A validator that accepts everything would pass the checks above.
ajv test -s "$record" -d "$testdata/invalid/record-*.json" --invalid
ajv test -s "$statement" -r "$record" -d "$testdata/invalid/statement-*.json" --invalid
# The data schema, and the schemas podium data infer wrote and people
# reviewed (YAML, which Ajv reads as it reads JSON).
ajv compile -s schemas/data.schema.json
ajv test -s schemas/data.schema.json -d "examples/weather/data.schema.yaml" --valid
ajv test -s schemas/data.schema.json -d "internal/data/testdata/ref.schema.yaml" --valid
echo "check-schemas: ok ($checked schemas and documents checked with Ajv)"
