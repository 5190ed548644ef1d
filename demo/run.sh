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

# ---- Running flows for real, on the embedded SQLite store ----
DEMO_DIR="$(mktemp -d)"
export FLOWCTL_STORE="$DEMO_DIR/flowctl.db"
export FLOWCTL_NOW=2026-03-02T08:00:00+01:00   # the demo's clock; fast-forwarded below

step "Apply the flows and their content to a store ($FLOWCTL_STORE)"
flowctl apply flows/ 2>/dev/null | tail -n 8
echo "applied again: $(flowctl apply flows/ 2>/dev/null | grep -c unchanged) documents unchanged"

step "Activate two flows (SMS flows would need an [sms] channel in flowctl.toml)"
flowctl activate lead-nurture --yes
flowctl activate offer-upsell --yes
flowctl get flows

step "Import 2,000 contacts and 301 events (300 contact forms, Ann's opt-in)"
flowctl contacts import demo/contacts.csv
flowctl event ingest demo/events.jsonl
flowctl enroll lead-nurture --contact per1@example.com || true

step "Monday 08:00: the daemon enters them and runs what is due"
flowctl daemon --once 2>/dev/null
flowctl participants offer-upsell

step "Ann buys offer 1 on Tuesday; the daemon runs on Tuesday, then on Saturday"
FLOWCTL_NOW=2026-03-03T10:00:00+01:00 flowctl event send tag_added \
  --contact ann@example.com --data tag=customer-1
FLOWCTL_NOW=2026-03-03T10:00:00+01:00 flowctl daemon --once 2>/dev/null
FLOWCTL_NOW=2026-03-07T09:00:00+01:00 flowctl daemon --once 2>/dev/null
flowctl history --contact ann@example.com
flowctl contacts show ann@example.com

step "Sunday: 60 prospects open the case study, 25 click its link"
FLOWCTL_NOW=2026-03-08T10:00:00+01:00 flowctl event ingest demo/engagement.jsonl
FLOWCTL_NOW=2026-03-08T10:00:00+01:00 flowctl daemon --once 2>/dev/null

step "Ten days on: the nurture flow's e-mails are in the outbox"
FLOWCTL_NOW=2026-03-12T09:00:00+01:00 flowctl daemon --once 2>/dev/null
flowctl messages --flow lead-nurture --limit 5
flowctl describe lead-nurture

step "How lead-nurture performs: the report in the terminal, a page with charts, and a why"
export FLOWCTL_NOW=2026-03-12T09:00:00+01:00
flowctl report lead-nurture
mkdir -p demo/out
flowctl report lead-nurture --html demo/out/lead-nurture-report.html
flowctl why lead-nurture --contact sara3@example.com
rm -rf "$DEMO_DIR"
