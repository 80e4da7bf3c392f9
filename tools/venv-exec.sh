#!/usr/bin/env bash
# Runs a tool installed in the project's venv: tools/venv-exec.sh TOOL [args...] (pre-commit hooks).
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ -x "$VENV/bin/$1" ] || die "$1 is not in $VENV: run make setup first."
exec "$VENV/bin/$1" "${@:2}"
