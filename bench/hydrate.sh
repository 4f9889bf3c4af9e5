#!/usr/bin/env bash
# strata hydrate against strata bundle on a benchmark repository made by `bench/gen.py --git`
# (use a fresh clone: objects a previous hydrate wrote make the first run cheaper).
# Usage: bench/hydrate.sh STRATA REPO   (REPO: a git work tree; its env/* branches are replaced)
set -euo pipefail
S=$1; R=$2
t() { /usr/bin/time -f "%e s wall, %U+%S s cpu, %M KB peak" "$@"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2; do
  rm -rf /tmp/bh-out
  echo "bundle run $i:"; t $S bundle --repo $R --out /tmp/bh-out >/dev/null
done
git -C $R for-each-ref --format='%(refname)' refs/heads/env refs/notes | while read r; do git -C $R update-ref -d $r; done
echo "hydrate (first, every environment):"; t $S hydrate --repo $R >/dev/null
echo "hydrate (second, unchanged):"; t $S hydrate --repo $R >/dev/null
echo "branches: $(git -C $R for-each-ref refs/heads/env | wc -l)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
