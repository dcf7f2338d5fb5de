#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (FUZZTIME,
# default 5s); go test runs one fuzz target per invocation.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
count=0
while IFS=: read -r file target; do
  pkg=./$(dirname "$file")
  echo "fuzz $pkg $target ($fuzztime)"
  # Keep the whole output of a failure: it names the failing input.
  if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
    printf '%s\n' "$out" | grep -v '^fuzz: elapsed' >&2
    exit 1
  fi
  printf '%s\n' "$out" | tail -n 1
  count=$((count + 1))
done < <(git grep --untracked -o -E '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/func //' | sort)
if [ "$count" -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi
echo "fuzzed $count targets for $fuzztime each, no failure"
