#!/bin/sh
# Reproduces the figures of docs/performance.md: builds strata and yaml_floor in
# release mode, generates the repositories and prints the table (see run.py --help).
set -e
exec python3 "$(dirname "$0")/run.py" "$@"
