"""``flowctl store migrate``: a SQLite store moves to PostgreSQL with everything in it.

The source is made the way a user makes one: flows and content applied
twice (two versions), contacts imported, a flow activated, its trigger
events ingested, and the daemon run while the SMTP server is down, so every
participant waits mid-flow with its first e-mail queued for a retry. After
the copy the PostgreSQL store shows, through the Store interface, exactly
what the SQLite store shows; a daemon run against it then finishes every
participant, sending each message once.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from flowctl.engine import COMPLETED
from flowctl.errors import Refused, UsageError
from flowctl.store import open_store
from flowctl.store.migrate import migrate
from flowctl.store.postgres_schema import TABLES
from tests.channels.conftest import free_port
from tests.conftest import Run
from tests.daemon.conftest import T0, Flowctl, days, iso, smtp_config
from tests.store.test_postgres import _snapshot

CONTACTS = 40
FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: move}
spec:
  triggers: [{type: form_submitted, form: move}]
  steps:
    - {id: first-mail, type: send_email, mailing: move-first}
    - {id: wait-1d, type: delay, duration: 1d}
    - {id: tag, type: add_tag, tag: moved}
    - {id: second-mail, type: send_email, mailing: move-second}
    - {id: done, type: end}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: move-first}
spec: {from: "Acme <news@acme.example>", subject: "Hi {{ contact.first_name }}", text: "Hi"}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: move-second}
spec: {from: "Acme <news@acme.example>", subject: "Second", text: "Again"}
"""


@pytest.fixture
def flowctl(cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Flowctl:
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)
    monkeypatch.delenv("FLOWCTL_USER", raising=False)
    monkeypatch.chdir(tmp_path)
    return Flowctl(cli, monkeypatch, tmp_path).at(T0)


def make_source(flowctl: Flowctl) -> None:
    """Participants waiting in the delay, their first e-mail queued (SMTP down)."""
    flowctl.configure(smtp_config(free_port()))
    people = [{"email": f"m{i}@example.com", "first_name": f"M{i}"} for i in range(CONTACTS)]
    flowctl.import_contacts(people)
    flowctl.ok("users", "add", "ann", "--role", "flow-admin")
    flowctl._monkeypatch.setenv("FLOWCTL_USER", "ann")
    flowctl.at(T0 - timedelta(hours=2)).apply(flowctl.write("move.yaml", FLOW))
    flowctl.at(T0 - timedelta(hours=1)).apply(
        flowctl.write("move.yaml", FLOW.replace('"Again"', '"Once more"'))
    )
    flowctl.activate("move")
    events = [
        {
            "type": "form_submitted",
            "contact": {"email": p["email"]},
            "occurred_at": iso(T0),
            "data": {"form": "move"},
            "id": f"m-{i}",
        }
        for i, p in enumerate(people)
    ]
    flowctl.at(T0).ingest(events)
    stats = flowctl.once(T0)
    assert (stats["entered"], stats["messages"], stats["delivered"]) == (CONTACTS, CONTACTS, 0)


def test_migrate_copies_everything_and_a_daemon_finishes_on_postgres(
    flowctl: Flowctl, pg_url: str
) -> None:
    make_source(flowctl)
    run = flowctl.json("store", "migrate", "--from", flowctl.db, "--to", pg_url)
    copied = run["tables"]
    assert set(copied) == set(TABLES)
    assert all(c["source"] == c["copied"] for c in copied.values()), copied
    for table in ("versions", "contacts", "events", "participants", "history", "outbox", "audit"):
        assert copied[table]["copied"] > 0, table
    assert copied["versions"]["copied"] == 4  # the flow and its second mailing, twice each
    assert "postgresql://postgres:***@" in run["destination"]

    with open_store(str(flowctl.db)) as sqlite, open_store(pg_url) as postgresql:
        before, after = _snapshot(sqlite), _snapshot(postgresql)
        for key in before:
            assert after[key] == before[key], key
        assert postgresql.users() == sqlite.users() == {"ann": "flow-admin"}
        assert postgresql.versions("Mailing", "move-second") == sqlite.versions(
            "Mailing", "move-second"
        )
        assert postgresql.participant_counts("move") == {"waiting": CONTACTS}
        queued = postgresql.messages(status="queued")
        assert len(queued) == CONTACTS and all(m.attempts == 1 for m in queued)
        # the generated keys go on after the copied ones
        (new,) = postgresql.insert_contacts([{"email": "new@example.com"}], T0)
        assert new == max(c.cid for c in sqlite.contacts(limit=1000)) + 1

    flowctl.db = pg_url  # type: ignore[assignment]
    flowctl.configure("")  # e-mail to the outbox transport: kept as sent
    for _ in range(5):
        if not flowctl.once(T0 + days(2))["steps"]:
            break
    with open_store(pg_url) as store:
        assert store.participant_counts("move") == {COMPLETED: CONTACTS}
        outbox = store.messages(flow="move", limit=10_000)
    assert Counter(Counter(m.key for m in outbox).values()) == {1: 2 * CONTACTS}
    assert Counter(m.status for m in outbox) == {"sent": 2 * CONTACTS}


def test_migrate_refuses_a_store_that_holds_data_unless_replace(
    flowctl: Flowctl, pg_url: str
) -> None:
    make_source(flowctl)
    first = migrate(str(flowctl.db), pg_url)
    with pytest.raises(Refused, match="not empty"):
        migrate(str(flowctl.db), pg_url)
    run = flowctl("store", "migrate", "--from", flowctl.db, "--to", pg_url)
    assert run.code == 1 and "--replace" in run.err
    progress: list[tuple[str, int, int]] = []
    again = migrate(
        str(flowctl.db),
        pg_url,
        replace=True,
        batch_size=7,
        on_progress=lambda *done: progress.append(done),
    )
    assert [(t.table, t.destination) for t in again.tables] == [
        (t.table, t.destination) for t in first.tables
    ]
    done = [d for _, d, _ in progress]
    assert done == sorted(done) and done[-1] == progress[-1][2] == again.rows


@pytest.mark.parametrize(
    "bad_type",
    ["'page' || char(0) || 'visited'", "CAST(X'7061676580' AS TEXT)"],  # NUL; not UTF-8
)
def test_migrate_of_a_value_that_cannot_be_copied_says_so_and_keeps_nothing(
    flowctl: Flowctl, pg_url: str, bad_type: str
) -> None:
    make_source(flowctl)
    with sqlite3.connect(flowctl.db) as conn:  # as a store written before intake refused them
        conn.execute(
            "INSERT INTO events (cid, type, occurred_at, received_at, data)"
            f" SELECT cid, {bad_type}, created_at, created_at, '{{}}' FROM contacts LIMIT 1"
        )
    run = flowctl("store", "migrate", "--from", flowctl.db, "--to", pg_url)
    assert run.code == 1, run.err
    assert "a value that cannot be copied" in run.err and "Traceback" not in run.err
    with open_store(pg_url) as pg:
        assert pg.flows() == [] and pg.count_contacts() == 0


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ("missing.db", "postgresql://u@127.0.0.1/db", "no store at"),
        ("flowctl.db", "other.db", "not a PostgreSQL URL"),
        ("postgresql://u@h/db", "postgresql://u@127.0.0.1/db", "not a SQLite store"),
    ],
)
def test_migrate_wrong_ends_usage_error(
    flowctl: Flowctl, source: str, destination: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        migrate(source, destination)
    run = flowctl("store", "migrate", "--from", source, "--to", destination)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err
