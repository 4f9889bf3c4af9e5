#!/usr/bin/env bash
# strata check, without and with the 20 admission policies of bench/policies.yaml, against
# strata bundle, on a benchmark repository made by `bench/gen.py` (copied: the copy's
# strata.yaml lists the policies in `check.policies`).
# Usage: bench/check.sh STRATA REPO [RUNS]
set -euo pipefail
S=$1; R=$2; N=${3:-3}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$R" "$work/repo"; rm -rf "$work/repo/.git"
cp "$(dirname "$0")/policies.yaml" "$work/repo/bench-policies.yaml"
t() { /usr/bin/time -o "$work/time" -f "%e s wall, %U+%S s cpu, %M KB peak" "$@" >/dev/null 2>"$work/err" || true; cat "$work/time"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Interleaved (bundle, check, check with the policies, then again): a neighbour that slows
# the machine for a while slows all three alike.
cp -r "$work/repo" "$work/policed"
printf 'check:\n  policies: [bench-policies.yaml]\n' >> "$work/policed/strata.yaml"
for i in $(seq "$N"); do
  rm -rf "$work/out"; echo -n "bundle run $i: "; t "$S" bundle --repo "$work/repo" --out "$work/out"
  echo -n "check run $i (no policies): "; t "$S" check --repo "$work/repo"
  echo -n "check run $i (20 policies): "; t "$S" check --repo "$work/policed"
done
"$S" check --repo "$work/policed" --rules admission-policy | tail -1
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
