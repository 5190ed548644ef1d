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

step "The systeme.io example as a diagram (Mermaid)"
flowctl graph flows/offer-upsell.yaml

step "Simulate a buyer of offer 1 through it on a virtual clock"
flowctl simulate flows/offer-upsell.yaml \
  --participant '{"email": "ann@example.com", "first_name": "Ann"}' \
  --events demo/ann-events.yaml --start 2026-03-02T08:00:00+01:00

step "Simulate a lead through the SuperOffice-style nurture flow, with its e-mails rendered"
flowctl simulate flows/lead-nurture.yaml --content flows/content \
  --participant '{"email": "per@example.no", "first_name": "Per", "category": "prospect"}' \
  --start 2026-03-02T08:00:00+01:00

step "Forecast 2,000 contacts through the A/B split"
flowctl simulate flows/subject-line-ab.yaml --participants demo/contacts.csv \
  --start 2026-03-02T08:00:00+01:00

step "Run the flows' own unit tests"
flowctl test flows/tests | tail -n 1
