#!/usr/bin/env bash
# strata publish against strata bundle on a benchmark repository made by `bench/gen.py --git`,
# pushing to Debian's docker-registry started here on loopback (empty storage, so the first
# publish uploads every blob; the second uploads none).
# Usage: bench/publish.sh STRATA REPO
set -euo pipefail
S=$1; R=$2
work=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/data" "$port" > "$work/config.yml"
docker-registry serve "$work/config.yml" >/dev/null 2>&1 & pid=$!
until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do sleep 0.1; done
t() { /usr/bin/time -f "%e s wall, %U+%S s cpu, %M KB peak" "$@"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2; do
  rm -rf "$work/out"
  echo "bundle run $i:"; t "$S" bundle --repo "$R" --out "$work/out" >/dev/null
done
for run in "first, every environment" "second, same commit"; do
  echo "publish ($run):"
  /usr/bin/time -o "$work/time" -f "%e s wall, %U+%S s cpu, %M KB peak" \
    "$S" publish "oci://127.0.0.1:$port/bench" --repo "$R" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  tail -1 "$work/err"; cat "$work/time"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
