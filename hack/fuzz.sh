#!/usr/bin/env bash
# Runs every fuzz target of the repository (the main module and the nested
# ones) for a short time each (FUZZTIME, default 5s); go test runs one fuzz
# target per invocation.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" when -fuzztime runs out while a worker is busy
# (https://go.dev/issue/75804, fixed in Go 1.27). That is not a finding: a
# finding always writes its input ("Failing input written to …"). Such a
# target is run once more; any second failure, and any other failure, fails.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}

# fuzz_once runs one target; its output is in $out afterwards. It runs in
# the package's directory, so that targets of nested modules (test/kasoracle)
# run in their own module.
fuzz_once() {
  out=$(cd "$1" && go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" . 2>&1)
}

# deadline_race says whether $out is the coordinator's race and nothing else.
deadline_race() {
  grep -q '^    context deadline exceeded$' <<<"$out" &&
    ! grep -q -e 'Failing input written to' -e '^panic:' -e '_test\.go:[0-9]*:' <<<"$out"
}

# fail prints the whole output of a failure (it names the failing input)
# and stops.
fail() {
  printf '%s\n' "$out" | grep -v '^fuzz: elapsed' >&2
  exit 1
}

count=0
while IFS=: read -r file target; do
  pkg=./$(dirname "$file")
  echo "fuzz $pkg $target ($fuzztime)"
  if ! fuzz_once "$pkg" "$target"; then
    if deadline_race; then
      echo "  the fuzz coordinator's deadline race (go.dev/issue/75804), no finding: once more"
      fuzz_once "$pkg" "$target" || fail
    else
      fail
    fi
  fi
  printf '%s\n' "$out" | tail -n 1
  count=$((count + 1))
done < <(git grep --untracked -o -E '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/func //' | sort)
if [ "$count" -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi
echo "fuzzed $count targets for $fuzztime each, no failure"
