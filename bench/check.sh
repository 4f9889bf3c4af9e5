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
for i in $(seq "$N"); do
  rm -rf "$work/out"; echo -n "bundle run $i: "; t "$S" bundle --repo "$work/repo" --out "$work/out"
done
for i in $(seq "$N"); do
  echo -n "check run $i (no policies): "; t "$S" check --repo "$work/repo"
done
printf 'check:\n  policies: [bench-policies.yaml]\n' >> "$work/repo/strata.yaml"
for i in $(seq "$N"); do
  echo -n "check run $i (20 policies): "; t "$S" check --repo "$work/repo"
done
"$S" check --repo "$work/repo" --rules admission-policy | tail -1
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
