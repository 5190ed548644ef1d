"""What only the PostgreSQL store does: its layout version, clear connection errors,
and several daemons claiming work from one database without ever taking the same rows.

The claims are tested the way daemons make them: two stores (two
connections) on one database, each inside an open transaction, as a
worker's batch is. The daemon driven through the command line on both
backends, with the same inputs, must leave the same state behind.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from flowctl.engine.state import Event, ParticipantState
from flowctl.errors import InputError, UsageError
from flowctl.operate import lifecycle
from flowctl.simulate.inputs import parse_start
from flowctl.store import Store, StoredDocument, open_store, postgres_schema
from flowctl.store.records import Attempt, Batch, HistoryRow, NewEvent, NewMessage
from tests.conftest import Run
from tests.daemon.conftest import Flowctl
from tests.daemon.test_parity import _flow_document
from tests.store.conftest import PgServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Store]:
    with open_store(pg_url) as store:
        yield store


def flow_doc(name: str = "f") -> StoredDocument:
    document = {"kind": "Flow", "metadata": {"name": name}, "spec": {"steps": []}}
    return StoredDocument("Flow", name, 1, "h", "kind: Flow\n", document, T0, "ann")


def waiting(cid: int, due: datetime, flow: str = "f") -> ParticipantState:
    return ParticipantState(
        flow=flow,
        version=1,
        contact=f"c{cid}",
        status="waiting",
        step="wait",
        due=due,
        entered_at=T0,
        trigger=Event("form_submitted", T0, {"form": "x"}),
    )


def seed(store: Store, count: int) -> list[int]:
    """``count`` contacts, each waiting in flow ``f`` and due at T0 + its index seconds."""
    store.add_version(flow_doc())
    cids = store.insert_contacts([{"email": f"p{i}@example.com"} for i in range(count)], T0)
    entered = [(cid, waiting(cid, T0 + timedelta(seconds=i))) for i, cid in enumerate(cids)]
    store.commit_batch(Batch(entered=entered), T0)
    return cids


def message(key: str, cid: int) -> NewMessage:
    return NewMessage(key, "f", "mail", f"f/c{cid}/0", cid, "email", "m", "a@b.c", {"text": "hi"})


# -- layout ------------------------------------------------------------------------


def test_postgres_schema_version_recorded(pg: Store, pg_url: str) -> None:
    assert pg.schema_version == postgres_schema.LATEST
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert row == (str(postgres_schema.LATEST),)


def test_postgres_empty_database_gets_layout(postgres: PgServer) -> None:
    url = postgres.create_database(empty=True)
    try:
        with open_store(url) as store:
            assert store.schema_version == postgres_schema.LATEST
            assert store.flows() == []
    finally:
        postgres.drop_database(url)


def test_postgres_opened_by_many_at_once_upgrades_once(postgres: PgServer) -> None:
    url = postgres.create_database(empty=True)
    versions: list[int] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            with open_store(url) as store:
                versions.append(store.schema_version)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert versions == [postgres_schema.LATEST] * 6
    finally:
        postgres.drop_database(url)


def test_postgres_reopen_keeps_data(pg_url: str) -> None:
    with open_store(pg_url) as store:
        store.set_user("ann", "flow-admin", T0)
        seed(store, 3)
    with open_store(pg_url) as store:
        assert store.users() == {"ann": "flow-admin"}
        assert store.count_contacts() == 3
        assert store.participant_counts("f") == {"waiting": 3}


def test_postgres_newer_layout_refused(pg: Store, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(InputError, match="newer flowctl"):
        open_store(pg_url)


def test_postgres_foreign_database_refused(postgres: PgServer) -> None:
    url = postgres.create_database(empty=True)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE users (id int)")
        with pytest.raises(InputError, match="did not create"):
            open_store(url)
    finally:
        postgres.drop_database(url)


def test_postgres_connection_lost_between_transactions_reconnects(pg: Store, pg_url: str) -> None:
    pg.set_user("ann", "flow-admin", T0)
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'flowctl' AND datname = current_database()"
        )
    with pytest.raises(InputError, match="failed"):
        pg.users()  # the broken connection is found out …
    assert pg.users() == {"ann": "flow-admin"}  # … and replaced on the next call


def test_postgres_shortcuts_answer_as_the_interface_defaults(pg: Store) -> None:
    """Where the interface has a default built on other verbs, the PostgreSQL query agrees."""
    from flowctl.store.runtime import RuntimeStore

    cids = seed(pg, 3)
    pg.update_contacts([(cids[0], {"email": "P0@example.com", "id": "x-0"})], T0)
    asked = (["x-0", "nobody"], ["p0@EXAMPLE.com", "P1@example.com", "no@example.com"])
    assert pg.contact_keys(*asked) == Store.contact_keys(pg, *asked)
    assert pg.contact_keys(*asked) == (
        {"x-0": cids[0]},
        {"p0@example.com": cids[0]} | {"p1@example.com": cids[1]},
    )
    assert pg.add_events_for(cids[::-1], "contact_created", T0) == 3
    assert [pg.events_for(c)[0]["type"] for c in cids] == ["contact_created"] * 3
    assert pg.add_events_for([], "contact_created", T0) == 0
    assert pg.live_step_counts("f") == RuntimeStore.live_step_counts(pg, "f") == {"wait": 3}


# -- connection errors -------------------------------------------------------------


def _without_password(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def test_postgres_wrong_password_one_clear_error(postgres: PgServer) -> None:
    password = _without_password(postgres.admin)
    url = postgres.url("postgres").replace(f":{password}@", ":wrong@")
    with pytest.raises(InputError, match="refused the login") as caught:
        open_store(url)
    assert "wrong" not in str(caught.value)


def test_postgres_unreachable_one_clear_error(postgres: PgServer) -> None:
    from tests.channels.conftest import free_port

    with pytest.raises(InputError, match="cannot reach"):
        open_store(f"postgresql://u:secret@127.0.0.1:{free_port()}/db")


def test_postgres_missing_database_one_clear_error(postgres: PgServer) -> None:
    with pytest.raises(InputError, match="does not exist") as caught:
        open_store(postgres.url("nowhere"))
    assert caught.value.hint == "create it first: createdb nowhere"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:secret@127.0.0.1:notaport/db",
        "postgresql://h/db?nonsense=1",
        "postgresql://u:secret@no-such-host.invalid/db",
        "postgresql://u:se@cret@no-such-host.invalid/db",  # an @ not percent-encoded
        "postgresql://u:secret@no-such-host.invalid/db?application_name=a@b",
    ],
)
def test_postgres_bad_url_usage_error(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        open_store(url)
    message = f"{caught.value} {caught.value.hint}"
    assert "secret" not in message and "cret" not in message
    assert ("percent-encode" in message) is url.startswith("postgresql://u:se@")


def test_postgres_server_that_is_not_postgresql_is_unreachable_not_a_bad_url() -> None:
    import socket
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def answer() -> None:  # an HTTP server on the port, say
            conn, _ = server.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

        threading.Thread(target=answer, daemon=True).start()
        with pytest.raises(InputError, match="cannot reach the PostgreSQL server"):
            open_store(f"postgresql://u:secret@127.0.0.1:{port}/db?connect_timeout=5")


def test_postgres_cli_error_is_one_line(cli: Callable[..., Run], postgres: PgServer) -> None:
    password = _without_password(postgres.admin)
    run = cli("--store", postgres.url("postgres").replace(password, "nope"), "get", "flows")
    assert run.code == 1
    assert run.err.startswith("error: the PostgreSQL server refused the login")
    assert "Traceback" not in run.err and "nope" not in run.err
    assert len(run.err.strip().splitlines()) == 1


# -- claims from several connections ---------------------------------------------------


def test_due_claims_from_two_connections_never_overlap(pg: Store, pg_url: str) -> None:
    seed(pg, 30)
    now = T0 + timedelta(hours=1)
    with open_store(pg_url) as other, pg.transaction(), other.transaction():
        mine = {s.id for _, s in pg.due_participants(now, ["f"], 12)}
        theirs = {s.id for _, s in other.due_participants(now, ["f"], 12)}
        rest = {s.id for _, s in other.due_participants(now, ["f"], 100)}
    assert len(mine) == len(theirs) == 12
    assert not mine & theirs and not mine & rest
    assert len(mine | theirs | rest) == 30
    # committed, the claims are free again
    assert len(pg.due_participants(now, ["f"], 100)) == 30


def test_due_claims_only_what_is_due(pg: Store) -> None:
    seed(pg, 10)
    with pg.transaction():
        due = pg.due_participants(T0 + timedelta(seconds=4.5), ["f"], 100)
    assert [s.due for _, s in due] == [T0 + timedelta(seconds=i) for i in range(5)]
    assert pg.due_participants(T0, ["other"], 100) == []


def test_claimed_contact_holds_back_its_events(pg: Store, pg_url: str) -> None:
    """A contact being advanced by one daemon has its events left to wait, not taken."""
    cids = seed(pg, 4)
    pg.add_events([NewEvent(cid, "email_opened", T0, id=f"e{cid}") for cid in cids], T0)
    with open_store(pg_url) as other, pg.transaction(), other.transaction():
        claimed = pg.due_participants(T0 + timedelta(seconds=1), ["f"], 100)  # the first two
        events = other.pending_events(T0, 100)
        more = pg.pending_events(T0, 100)  # its own contacts' events are its to take
    assert sorted(cid for cid, _ in claimed) == cids[:2]
    assert sorted(e.cid for e in events) == cids[2:]
    assert sorted(e.cid for e in more) == cids[:2]


def test_live_participants_read_to_be_written_are_held(pg: Store, pg_url: str) -> None:
    """A deactivation cancels what it read: no daemon may advance those meanwhile."""
    seed(pg, 5)
    later = T0 + timedelta(hours=1)
    with open_store(pg_url) as other:
        with pg.transaction(), other.transaction():
            assert len(pg.live_participants("f")) == 5
            assert other.due_participants(later, ["f"], 100) == []
        assert len(pg.live_participants("f")) == 5  # outside a transaction: nothing held
        with other.transaction():
            assert len(other.due_participants(later, ["f"], 100)) == 5


def test_claim_messages_disjoint_and_rescued_after_lease(pg: Store, pg_url: str) -> None:
    cids = seed(pg, 10)
    batch = Batch(messages=[message(f"k{cid}", cid) for cid in cids])
    pg.commit_batch(batch, T0)
    with open_store(pg_url) as other:
        with pg.transaction(), other.transaction():
            mine = pg.claim_messages(T0, 6, T0 + LEASE)
            theirs = other.claim_messages(T0, 6, T0 + LEASE)
        assert len(mine) == 6 and len(theirs) == 4
        assert not {m.id for m in mine} & {m.id for m in theirs}
        assert other.claim_messages(T0 + LEASE - timedelta(seconds=1), 10, T0 + 2 * LEASE) == []
        pg.finish_messages([Attempt(mine[0].id, "sent")], T0)
        rescued = other.claim_messages(T0 + LEASE, 10, T0 + 2 * LEASE)  # their daemons died
    assert sorted(m.id for m in rescued) == sorted(m.id for m in [*mine[1:], *theirs])


def test_outbox_one_row_per_key_whatever_the_race(pg: Store, pg_url: str) -> None:
    (cid,) = seed(pg, 1)
    done = threading.Event()

    def second() -> None:
        with open_store(pg_url) as other:
            other.commit_batch(Batch(messages=[message("same-key", cid)]), T0)
        done.set()

    with pg.transaction():
        pg.commit_batch(Batch(messages=[message("same-key", cid)]), T0)
        thread = threading.Thread(target=second)
        thread.start()
        assert not done.wait(0.3)  # the second insert waits for the first to commit …
    thread.join(timeout=10)
    assert done.is_set()  # … and then writes nothing
    assert [m.key for m in pg.messages()] == ["same-key"]


# -- the daemon on both backends ----------------------------------------------------

HORIZON = timedelta(days=60)
LIFECYCLE: dict[int, Callable[[Store, datetime], Any]] = {
    2: lambda store, now: lifecycle.pause(store, "payment-recovery", now=now),
    6: lambda store, now: lifecycle.resume(store, "payment-recovery", now=now),
    4: lambda store, now: lifecycle.deactivate(
        store, "lead-nurture", cancel_scheduled=True, now=now
    ),
}
"""Daemon runs before which a flow is paused, resumed or deactivated (canceling its own)."""


def test_daemon_leaves_the_same_state_on_both_backends(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str
) -> None:
    """Every example flow's test cases at once, through the CLI, on SQLite and on PostgreSQL:
    participants, history, counters, outbox, contacts, events and CRM objects all agree."""
    from flowctl.channels.webhook import WebhookTransport

    monkeypatch.setattr(WebhookTransport, "send", lambda self, message: None)
    snapshots = []
    for name, url in (("sqlite", str(tmp_path / "parity.db")), ("postgresql", pg_url)):
        folder = tmp_path / name
        folder.mkdir()
        monkeypatch.setattr(sys, "stdin", io.StringIO())  # the other run's ingest closed it
        flowctl = Flowctl(cli, monkeypatch, folder)
        flowctl.db = url  # type: ignore[assignment]
        _run_examples(flowctl)
        with open_store(url) as store:
            snapshots.append(_snapshot(store))
    sqlite, postgresql = snapshots
    canceled = [
        p for p in sqlite["participants"]["lead-nurture"] if p["state"]["status"] == "canceled"
    ]
    assert canceled, "the scenario ran nothing, or canceled nothing"
    for key in sqlite:
        assert postgresql[key] == sqlite[key], key


def _run_examples(flowctl: Flowctl) -> None:
    from tests.daemon.test_parity import CASES, compile_flow, matching_triggers, parse_events

    contacts, timeline, flows = [], [], set()
    for i, case in enumerate(CASES):
        program = compile_flow(_flow_document(case.flow_file))
        start = parse_start(case.start, program.zone)
        events = parse_events(case.events, start, program.zone)
        if not any(matching_triggers(program, e) for e in events):
            continue
        ref = f"{i}-{case.contact['id']}"
        local, _, domain = str(case.contact.get("email", "x@example.com")).partition("@")
        contacts.append({**case.contact, "id": ref, "email": f"{local}.{i}@{domain}"})
        for e in events:
            record = {"type": e.type, "contact": {"id": ref}, "data": dict(e.data)}
            timeline.append((e.at, record | {"occurred_at": e.at.isoformat()}))
        flows.add((program.name, case.flow_file, case.content_file))
    timeline.sort(key=lambda item: item[0])
    first = timeline[0][0]
    flowctl.configure('[sms]\ntransport = "outbox"\n')
    flowctl.at(first - timedelta(hours=1))
    flowctl.import_contacts(contacts)
    for _, flow_file, content in sorted(flows, key=str):
        flowctl.apply(flow_file, *([content] if content else []))
    flowctl.activate(*sorted(name for name, _, _ in flows))
    _drive_all(flowctl, timeline, first + HORIZON)


def _drive_all(flowctl: Flowctl, timeline: list[tuple[datetime, Any]], end: datetime) -> None:
    """What ``daemon --once`` does, at every event instant and every due time, until the
    horizon (through the library: the command line would only add its start-up each time)."""
    from flowctl.config import load_config
    from flowctl.daemon import Daemon
    from flowctl.load.records import Record
    from flowctl.operate.intake import ingest_events

    pending = list(timeline)
    with flowctl.store() as store:
        daemon = Daemon(store, load_config(flowctl.config))
        for run in range(500):
            live = [p for f in store.flows() for p in store.live_participants(f.name)]
            dues = [p.due for p in live if p.due is not None]
            moments = [
                t for t in (pending[0][0] if pending else None, min(dues, default=None)) if t
            ]
            if not moments or min(moments) > end:
                daemon.close()
                return
            moment = min(moments)
            now = [Record(i, r) for i, (at, r) in enumerate(pending) if at == moment]
            pending = [(at, record) for at, record in pending if at != moment]
            if now:
                ingest_events(store, now, moment)
            if run in LIFECYCLE:  # events held while paused, participants canceled
                LIFECYCLE[run](store, moment)
            daemon.run_once(moment)
    pytest.fail("the scenario did not settle in 500 daemon runs")


def _snapshot(store: Store) -> dict[str, Any]:
    """Everything the store shows, through its interface, in an order both backends agree on."""
    flows = [f.name for f in store.flows()]
    contacts = store.contacts(limit=10_000)
    return {
        "flows": store.flows(),
        "participants": {
            f: sorted(
                (dict(r) | {"state": r["state"].to_row()} for r in store.participant_rows(f)),
                key=lambda r: str(r["state"]),
            )
            for f in flows
        },
        # newest first; rows of one instant in the order their batch wrote them, which
        # follows claim order, and ties of due time are claimed in no set order
        "history": {f: _by_instant(store.history(flow=f, limit=100_000)) for f in flows},
        "step_counts": {f: store.step_counts(f) for f in flows},
        "daily_counts": {f: store.daily_counts(f) for f in flows},
        "sent": {f: store.sent_messages_count(f) for f in flows},
        "messages": sorted(
            (replace(m, id=0) for m in store.messages(limit=100_000)), key=lambda m: m.key
        ),
        "contacts": contacts,
        "events": {c.cid: store.events_for(c.cid, limit=10_000) for c in contacts},
        "crm": {c.cid: store.crm_objects(c.cid) for c in contacts},
        "activations": {f: store.activations(f) for f in flows},
        "pauses": store.pauses(),
        "audit": store.audit_log(limit=10_000),
    }


def _by_instant(rows: list[HistoryRow]) -> list[list[HistoryRow]]:
    """History rows grouped by instant, newest first; within an instant in a fixed order."""
    groups: dict[datetime, list[HistoryRow]] = {}
    for row in rows:
        groups.setdefault(row.at, []).append(row)
    return [sorted(group, key=str) for group in groups.values()]
