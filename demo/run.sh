#!/usr/bin/env bash
# The flowctl demo: run by `make demo` with the project's venv first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Lint every example flow, its content and its tests"
flowctl validate flows/

step "A flow with mistakes: exact line and column, in a format CI understands"
flowctl validate demo/broken-flow.yaml || true
flowctl validate -o github demo/broken-flow.yaml || true
