"""The daemon (issue 5): ``daemon --once`` throughput, and one tick among a million waiting.

**Throughput.** 100,000 contacts (10,000 with ``--quick``) each submit the
form that triggers a 6-step flow: ``add_tag``, ``update_contact``, a
``decision`` on the country, ``delay 1d``, ``send_email`` (to the outbox)
and ``end``. Setup, not timed, kept in ``bench/.data/daemon`` and copied per
run: apply the flow and its Mailing, import the contacts, let the daemon
handle their ``contact_created`` events (a running daemon has long done so),
activate, ingest the trigger events. Timed, in a child process of its own
so that its peak RSS is this work's alone: ``Daemon.run_once(t0)`` (the
events, the entries, the steps up to the delay and the events those actions
emit) then ``run_once(t0 + 1d)`` (the wake-ups, the e-mails, the ends, the
delivery to the outbox transport, the purge): what ``flowctl daemon --once``
does at two instants. Steps are the sum of ``Stats.steps``, checked against
the rows of the history table.

**The floor** is a bare sqlite3 loop, in the same run, on a copy of the same
setup (the same tables, indexes and rows), that claims, updates and inserts
the rows the daemon does (as many, of the same shape and about the same
size; its instants are the two run instants), in batches of the daemon's
size (500), each ``BEGIN
IMMEDIATE`` … ``COMMIT``: at the first instant it claims the trigger events,
inserts the participants and three history rows each, updates the contacts,
inserts the two events the actions emit (stored handled, as no flow listens
to them), marks the trigger events processed and adds to the counters; at
the second it claims the due participants, updates them, inserts three
history rows, the outbox row and its ``email_sent`` event each, and the
counters; then it marks the outbox rows sent, a batch per statement, as
delivery to the outbox transport does. Its values are prepared beforehand:
no reading of contacts, no rendering, no JSON. After the run the floor's
file and the daemon's are compared (rows per table, statuses, counter
sums), so the two did the same writes.

Targets: at least 10,000 steps/s (at most 100 µs per step); at least half
the floor's steps/s (time at most twice its); peak RSS under 300 MB. The
figures are wall time; ``detail`` adds the child's CPU seconds and the load
average, for on a shared machine wall time includes waiting for a CPU.

**Waiting tick.** A store with 1,000,000 participants waiting in the delay
(100,000 with ``--quick``), 1,000 of them due at ``now``, inserted with SQL
(rows copied from ones the daemon itself wrote; kept in ``bench/.data``).
Timed through the store's API: ``store.due_participants(now, flows, 1000)``
in a transaction (target under 50 ms; baseline the same SELECT in bare
sqlite3), and a whole ``Worker.run_pass(now)`` advancing those 1,000 on a
fresh copy of the file (reported, no target).

To profile: ``python -m bench.daemon drive COPY.db --profile out.prof`` runs
the timed part alone on a copy of a stored setup (``bench/.data/daemon/ready-*.db``).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import BenchError, Measurement, Settings, Target, run_cli
from flowctl.config import Config
from flowctl.daemon.service import Daemon
from flowctl.daemon.worker import Worker
from flowctl.load.records import Record
from flowctl.operate.apply import apply
from flowctl.operate.intake import import_contacts, ingest_events
from flowctl.operate.lifecycle import activate
from flowctl.store import Store, open_store
from flowctl.store.codec import ts

PARTICIPANTS = 100_000
PARTICIPANTS_QUICK = 10_000
WAITING = 1_000_000
WAITING_QUICK = 100_000
DUE = 1_000
STEPS = 6
"""Steps each participant executes: tag, update, decision, delay, e-mail, end."""
BATCH = Config.default().daemon.batch_size
SETUP_VERSION = 2
"""Bump when the setup below changes, so stored setups are built again."""

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
IMPORTED = T0 - timedelta(hours=3)
ACTIVATED = T0 - timedelta(hours=2)
TRIGGERED = T0 - timedelta(hours=1)

FLOW_NAME = "bench-daemon"
FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: bench-daemon}
spec:
  timezone: Europe/Oslo
  triggers: [{type: form_submitted, form: contact-me}]
  steps:
    - {id: tag-lead, type: add_tag, tag: lead}
    - {id: mark-stage, type: update_contact, set: {stage: nurture}}
    - id: is-nordic
      type: decision
      if: {field: contact.country, in: [NO, SE, DK]}
      then: []
      else: []
    - {id: wait-1d, type: delay, duration: 1d}
    - {id: welcome, type: send_email, mailing: bench-welcome}
    - {id: done, type: end}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: bench-welcome}
spec:
  from: "Acme <hello@acme.example>"
  subject: "Welcome, {{ contact.first_name | default('there') }}"
  text: "Hi {{ contact.first_name | default('there') }}, thanks for getting in touch."
"""

STEPS_TARGET = Target(100.0)
"""At most 100 µs per step: at least 10,000 steps/s."""
FLOOR_TARGET = Target(2.0, of="ratio")
"""Time at most twice the floor's: at least half its steps per second."""
MEMORY_TARGET = Target(300, inclusive=False)
TICK_TARGET = Target(50, inclusive=False)


def run(settings: Settings) -> list[Measurement]:
    folder = settings.data_dir / "daemon"
    folder.mkdir(parents=True, exist_ok=True)
    count = PARTICIPANTS_QUICK if settings.quick else PARTICIPANTS
    waiting = WAITING_QUICK if settings.quick else WAITING
    repeat = 1 if settings.quick else 3
    with tempfile.TemporaryDirectory(prefix="flowctl-bench-") as tmp:
        work = Path(tmp)
        return [
            *_throughput(work, _ready_store(folder, count), count, repeat),
            *_waiting_tick(work, _waiting_store(folder, waiting), waiting, repeat),
        ]


# -- throughput ----------------------------------------------------------------


def _throughput(work: Path, ready: Path, count: int, repeat: int) -> list[Measurement]:
    store = work / "daemon.db"
    shutil.copy(ready, store)
    drive = run_cli([sys.executable, "-m", "bench.daemon", "drive", str(store)])
    timed = json.loads(drive.stdout)
    _check_daemon_run(store, count, timed)
    steps, took = timed["steps"], timed["seconds"]
    floor = _floor_runs(work, ready, repeat)
    _same_writes(store, work / "floor-0.db")
    base = min(floor)
    rate, floor_rate = steps / took, count * STEPS / base
    cpu = sum(i["cpu_seconds"] for i in timed["instants"])
    detail: dict[str, Any] = {
        "instants": timed["instants"],
        "steps": steps,
        "steps_per_s": rate,
        "steps_per_cpu_s": steps / cpu,
        "load_average": os.getloadavg(),
        "floor_runs": floor,
        "floor_steps_per_s": floor_rate,
        "throughput_ratio": rate / floor_rate,
        "peak_rss_mb": timed["peak_mb"],
        "child_maxrss_mb": drive.peak_rss_mb,
        "child_wall_s": drive.wall,
    }
    name = f"run_once x2, {count:,} participants, {STEPS} steps"
    return [
        Measurement(f"{name}: steps/s", rate, "steps/s", floor_rate, "bare sqlite3"),
        Measurement(f"{name}: per step", took / steps * 1e6, "µs", target=STEPS_TARGET),
        Measurement(f"{name}: time", took, "s", base, "bare sqlite3", FLOOR_TARGET, detail),
        Measurement(f"{name}: peak memory", timed["peak_mb"], "MB", target=MEMORY_TARGET),
    ]


def _check_daemon_run(path: Path, count: int, timed: dict[str, Any]) -> None:
    """Every participant completed, one message each, one history row per step counted."""
    conn = sqlite3.connect(path)
    try:
        (history,) = conn.execute("SELECT count(*) FROM history").fetchone()
        (done,) = conn.execute(
            "SELECT count(*) FROM participants WHERE status = 'completed'"
        ).fetchone()
        (sent,) = conn.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()
    finally:
        conn.close()
    expected = count * STEPS
    if not timed["steps"] == history == expected or done != count or sent != count:
        raise BenchError(
            f"expected {expected} steps, {count} completed, {count} sent; the daemon counted "
            f"{timed['steps']} steps, history holds {history}, {done} completed, {sent} sent"
        )


def _drive(path: str, profile: str | None) -> dict[str, Any]:
    """The timed part, in the child: ``run_once`` at the two instants."""
    profiler = cProfile.Profile() if profile else None
    instants = []
    with open_store(path) as store:
        daemon = Daemon(store, Config.default())
        for at in (T0, T1):
            if profiler:
                profiler.enable()
            start, cpu = time.perf_counter(), time.process_time()
            stats = daemon.run_once(at)
            took, cpu = time.perf_counter() - start, time.process_time() - cpu
            if profiler:
                profiler.disable()
            instants.append(
                {"at": at.isoformat(), "seconds": took, "cpu_seconds": cpu, **stats.to_dict()}
            )
        daemon.close()
    if profiler and profile:
        profiler.dump_stats(profile)
    return {
        "instants": instants,
        "steps": sum(i["steps"] for i in instants),
        "seconds": sum(i["seconds"] for i in instants),
        "peak_mb": _own_peak_mb(),
    }


def _own_peak_mb() -> float:
    """This process's peak resident memory (VmHWM: its own, unlike ``ru_maxrss``,
    which a child inherits from the parent that forked it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _ready_store(folder: Path, count: int) -> Path:
    """The store just before the daemon runs: built once, reused while the setup is unchanged."""
    path = folder / f"ready-{count}-{_fingerprint()}.db"
    if not path.exists():
        for old in folder.glob(f"ready-{count}-*.db"):
            old.unlink()
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        _build_ready(building, count)
        building.rename(path)
    return path


def _build_ready(path: Path, count: int) -> None:
    with open_store(str(path)) as store:
        _apply_flow(store, path.parent)
        imported = import_contacts(store, _contact_records(count), IMPORTED)
        if imported.created != count:
            raise BenchError(f"setup imported {imported.created} of {count} contacts")
        daemon = Daemon(store, Config.default())
        daemon.run_once(IMPORTED)  # their contact_created events
        daemon.close()
        activate(store, FLOW_NAME, sms_configured=False, now=ACTIVATED)
        ingested = ingest_events(store, _trigger_records(count), TRIGGERED)
        if ingested.added != count:
            raise BenchError(f"setup ingested {ingested.added} of {count} trigger events")


def _apply_flow(store: Store, folder: Path) -> None:
    source = folder / f"{FLOW_NAME}.yaml"
    source.write_text(FLOW, encoding="utf-8")
    apply(store, [source], now=IMPORTED)


def _contact_records(count: int) -> Iterator[Record]:
    countries = ("NO", "SE", "DE", "US", "GB")
    for i in range(count):
        data = {
            "id": f"c{i}",
            "email": f"person.{i}@example.com",
            "first_name": f"Name{i % 97}",
            "country": countries[i % len(countries)],
        }
        yield Record(i + 2, data)


def _trigger_records(count: int) -> Iterator[Record]:
    for i in range(count):
        at = TRIGGERED - timedelta(minutes=30) + timedelta(milliseconds=i)
        data = {
            "type": "form_submitted",
            "contact": {"email": f"person.{i}@example.com"},
            "occurred_at": at.isoformat(),
            "id": f"t{i}",
            "data": {"form": "contact-me"},
        }
        yield Record(i + 1, data)


def _fingerprint() -> str:
    """Names the stored setups: changes with the flow, the setup and the store's layout."""
    text = "\n".join([str(SETUP_VERSION), FLOW, *(sql for _, sql in _layout())])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# -- the floor -----------------------------------------------------------------


def _floor_runs(work: Path, ready: Path, repeat: int) -> list[float]:
    return [_floor(ready, work / f"floor-{attempt}.db") for attempt in range(repeat)]


def _floor(ready: Path, path: Path) -> float:
    """Bare sqlite3 on a copy of the same setup: the daemon's claims, updates and inserts."""
    shutil.copy(ready, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL is the file's own already
    start = time.perf_counter()
    _drain_floor(partial(_floor_entries, conn))
    _drain_floor(partial(_floor_wakes, conn))
    _drain_floor(partial(_floor_delivery, conn))
    took = time.perf_counter() - start
    conn.close()
    return took


def _drain_floor(batch: Callable[[], int]) -> None:
    while batch() == BATCH:
        pass


def _floor_entries(conn: sqlite3.Connection) -> int:
    """At T0, one batch: claim trigger events, insert participants, history, contact
    updates, emitted events (stored handled), counters; mark the events processed."""
    now, day = ts(T0), T0.date().isoformat()
    conn.execute("BEGIN IMMEDIATE")
    claimed = conn.execute(
        "SELECT seq, cid FROM events WHERE processed_at IS NULL AND occurred_at <= ?"
        " ORDER BY seq LIMIT ?",
        (now, BATCH),
    ).fetchall()
    people = [(seq, cid, f"c{cid - 1}", _pid(cid - 1)) for seq, cid in claimed]
    conn.executemany(
        "INSERT INTO participants VALUES (?, ?, 1, ?, ?, 'waiting', 'wait-1d', ?, ?,"
        " NULL, NULL, NULL, ?, NULL)",
        [(pid, FLOW_NAME, cid, ref, ts(T1), now, _FLOOR_WAITING) for _, cid, ref, pid in people],
    )
    steps = _floor_history(conn, people, now, _entry_steps)
    conn.executemany(
        "UPDATE contacts SET id = ?, email = ?, data = ?, updated_at = ? WHERE cid = ?",
        [
            (ref, f"person.{cid - 1}@example.com", _FLOOR_CONTACT, now, cid)
            for _, cid, ref, _ in people
        ],
    )
    _floor_events(
        conn, [(cid, kind, data) for _, cid, _, _ in people for kind, data in _ENTRY_EVENTS], now
    )
    conn.executemany(
        "UPDATE events SET processed_at = ? WHERE seq = ?", [(now, seq) for seq, *_ in people]
    )
    _floor_counts(conn, day, steps, len(people), "entered")
    conn.execute("COMMIT")
    return len(claimed)


def _floor_wakes(conn: sqlite3.Connection) -> int:
    """At T1, one batch: claim due participants, update them, insert history, the
    e-mail in the outbox, its event (stored handled) and counters."""
    now, day = ts(T1), T1.date().isoformat()
    conn.execute("BEGIN IMMEDIATE")
    claimed = conn.execute(
        "SELECT * FROM participants INDEXED BY participants_due WHERE status = 'waiting'"
        " AND due <= ? AND flow IN (?) ORDER BY due LIMIT ?",
        (now, FLOW_NAME, BATCH),
    ).fetchall()
    people = [(0, r[3], r[4], r[0]) for r in claimed]
    conn.executemany(
        "UPDATE participants SET version = 1, status = 'completed', step = 'done', due = NULL,"
        " entered_at = ?, succeeded_at = NULL, ended_at = ?, reason = NULL, data = ?"
        " WHERE id = ?",
        [(ts(T0), now, _FLOOR_DONE, pid) for *_, pid in people],
    )
    steps = _floor_history(conn, people, now, lambda cid: _WAKE_STEPS)
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (key, flow, step, participant, cid, channel, content,"
        " recipient, payload, status, attempts, queued_at, next_at)"
        " VALUES (?, ?, 'welcome', ?, ?, 'email', 'bench-welcome', ?, ?, 'queued', 0, ?, ?)",
        [
            (
                f"{pid}:1:welcome:1",
                FLOW_NAME,
                pid,
                cid,
                f"person.{cid - 1}@example.com",
                _FLOOR_MAIL,
                now,
                now,
            )
            for _, cid, _, pid in people
        ],
    )
    _floor_events(conn, [(cid, "email_sent", _SENT_EVENT) for _, cid, _, _ in people], now)
    _floor_counts(conn, day, steps, len(people), "completed")
    conn.execute("COMMIT")
    return len(claimed)


def _floor_delivery(conn: sqlite3.Connection) -> int:
    """One batch of delivery to the outbox transport: the due messages marked sent."""
    now = ts(T1)
    conn.execute("BEGIN IMMEDIATE")
    done = conn.execute(
        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, error = NULL,"
        " sent_at = ?1, next_at = NULL WHERE id IN (SELECT id FROM outbox"
        " WHERE status IN ('queued', 'sending') AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2)",
        (now, BATCH),
    ).rowcount
    conn.execute("COMMIT")
    return done


def _pid(i: int) -> str:
    return f"{FLOW_NAME}/c{i}/{int(T0.timestamp())}"


def _floor_history(
    conn: sqlite3.Connection,
    people: list[tuple[int, int, str, str]],
    now: str,
    steps: Callable[[int], Sequence[tuple[str, str, str]]],
) -> Counter[tuple[str, str]]:
    """Insert each participant's history rows; the ``(step, outcome)`` counts."""
    rows = [
        (pid, FLOW_NAME, cid, now, step, kind, outcome)
        for _, cid, _, pid in people
        for step, kind, outcome in steps(cid)
    ]
    conn.executemany(
        "INSERT INTO history (participant, flow, version, cid, at, step, type, outcome, detail)"
        " VALUES (?, ?, 1, ?, ?, ?, ?, ?, NULL)",
        rows,
    )
    return Counter((r[4], r[6]) for r in rows)


def _floor_events(conn: sqlite3.Connection, events: list[tuple[int, str, str]], now: str) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO events (id, cid, type, occurred_at, received_at, data,"
        " processed_at) VALUES (NULL, ?, ?, ?, ?, ?, ?)",
        [(cid, kind, now, now, data, now) for cid, kind, data in events],
    )


def _floor_counts(
    conn: sqlite3.Connection, day: str, steps: Counter[tuple[str, str]], n: int, metric: str
) -> None:
    conn.executemany(
        "INSERT INTO step_counts VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO UPDATE SET n = n + excluded.n",
        [(FLOW_NAME, day, step, outcome, k) for (step, outcome), k in steps.items()],
    )
    conn.execute(
        "INSERT INTO daily_counts VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n",
        (FLOW_NAME, day, metric, n),
    )


def _same_writes(daemon: Path, floor: Path) -> None:
    """The floor wrote what the daemon did: rows per table, statuses, counter sums."""
    checks = [
        "SELECT count(*), sum(status = 'completed') FROM participants",
        "SELECT count(*) FROM history",
        "SELECT count(*), sum(processed_at IS NULL) FROM events",
        "SELECT count(*), sum(status = 'sent') FROM outbox",
        "SELECT count(*), sum(updated_at > created_at) FROM contacts",
        "SELECT sum(n) FROM step_counts",
        "SELECT sum(n) FROM daily_counts",
    ]
    found = []
    for path in (daemon, floor):
        conn = sqlite3.connect(path)
        try:
            found.append([conn.execute(sql).fetchone() for sql in checks])
        finally:
            conn.close()
    if found[0] != found[1]:
        differ = [(sql, a, b) for sql, a, b in zip(checks, *found, strict=True) if a != b]
        raise BenchError(f"the floor's writes differ from the daemon's: {differ}")


def _entry_steps(cid: int) -> tuple[tuple[str, str, str], ...]:
    """The steps run at T0 for contact ``cid``: the decision as its country makes it."""
    nordic = (cid - 1) % 5 < 2  # NO and SE of the setup's NO, SE, DE, US, GB
    return (
        ("tag-lead", "add_tag", "done"),
        ("mark-stage", "update_contact", "done"),
        ("is-nordic", "decision", "then" if nordic else "else"),
    )


_WAKE_STEPS = (
    ("wait-1d", "delay", "waited"),
    ("welcome", "send_email", "sent"),
    ("done", "end", "end"),
)
_ENTRY_EVENTS = (
    ("tag_added", '{"tag":"lead","step":"tag-lead","flow":"bench-daemon"}'),
    (
        "contact_updated",
        '{"set":{"stage":"nurture"},"unset":[],"step":"mark-stage","flow":"bench-daemon"}',
    ),
)
_SENT_EVENT = '{"mailing":"bench-welcome","step":"welcome","flow":"bench-daemon"}'
_TRIGGER = (
    '{"type":"form_submitted","at":"2026-03-02T06:30:00+00:00",'
    '"data":{"form":"contact-me"},"id":"t0"}'
)
_FLOOR_WAITING = (
    '{"trigger":' + _TRIGGER + ',"visits":{"tag-lead":1,"mark-stage":1,"is-nordic":1,"wait-1d":1},'
    '"step_count":4,"hold":"delay","wait_since":"2026-03-02T08:00:00.000000+00:00"}'
)
_FLOOR_DONE = (
    '{"trigger":' + _TRIGGER + ',"visits":{"tag-lead":1,"mark-stage":1,"is-nordic":1,"wait-1d":1,'
    '"welcome":1,"done":1},"step_count":6,"hold":null,"wait_since":null}'
)
"""A participant's ``data`` as the daemon writes it, waiting and then done."""
_FLOOR_CONTACT = (
    '{"id":"c0","email":"person.0@example.com","first_name":"Name0","country":"NO",'
    '"tags":["lead"],"stage":"nurture"}'
)
_FLOOR_MAIL = json.dumps(
    {
        "from": "Acme <hello@acme.example>",
        "subject": "Welcome, Name42",
        "text": "Hi Name42, thanks for getting in touch.",
    },
    separators=(",", ":"),
)


@functools.cache
def _layout() -> tuple[tuple[str, str], ...]:
    """``(table, CREATE statement)`` of a new store, each table before its indexes."""
    with tempfile.TemporaryDirectory(prefix="flowctl-bench-") as tmp:
        path = Path(tmp) / "layout.db"
        with open_store(str(path)) as store:
            store.count_contacts()  # the layout exists once opened
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute(
                "SELECT tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                " ORDER BY tbl_name, type DESC, name"
            ).fetchall()
        finally:
            conn.close()
    return tuple(rows)


# -- the waiting tick ------------------------------------------------------------


def _waiting_tick(work: Path, stored: Path, waiting: int, repeat: int) -> list[Measurement]:
    path = work / "waiting.db"
    shutil.copy(stored, path)
    finds = _time_finds(path, repeat=max(5, repeat))
    bare = _time_bare_find(path, repeat=max(5, repeat))
    passes = []
    for _ in range(repeat):
        shutil.copy(stored, path)
        passes.append(_time_pass(path))
    best_pass = min(p["seconds"] for p in passes)
    name = f"tick, {DUE:,} due of {waiting:,} waiting"
    return [
        Measurement(
            f"{name}: find the due (due_participants)",
            statistics.median(finds) * 1000,
            "ms",
            min(bare) * 1000,
            "bare SELECT",
            TICK_TARGET,
            {"runs_ms": [f * 1000 for f in finds], "bare_runs_ms": [b * 1000 for b in bare]},
        ),
        Measurement(
            f"{name}: whole run_pass advancing them",
            best_pass * 1000,
            "ms",
            detail={"runs": passes},
        ),
    ]


def _time_finds(path: Path, repeat: int) -> list[float]:
    """``due_participants`` in a transaction, each time on a freshly opened store."""
    times = []
    for _ in range(repeat):
        with open_store(str(path)) as store:
            start = time.perf_counter()
            with store.transaction():
                due = store.due_participants(T1, [FLOW_NAME], DUE)
            times.append(time.perf_counter() - start)
        if len(due) != DUE:
            raise BenchError(f"due_participants found {len(due)} due, not {DUE}")
    return times


def _time_bare_find(path: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        conn = sqlite3.connect(path, isolation_level=None)
        start = time.perf_counter()
        rows = conn.execute(
            "SELECT * FROM participants WHERE due <= ? AND flow = ? AND status = 'waiting'"
            " ORDER BY due LIMIT ?",
            (ts(T1), FLOW_NAME, DUE),
        ).fetchall()
        times.append(time.perf_counter() - start)
        conn.close()
        if len(rows) != DUE:
            raise BenchError(f"the bare SELECT found {len(rows)} due, not {DUE}")
    return times


def _time_pass(path: Path) -> dict[str, Any]:
    with open_store(str(path)) as store:
        worker = Worker(store, batch_size=BATCH)
        start = time.perf_counter()
        stats = worker.run_pass(T1)
        took = time.perf_counter() - start
    if stats.steps != DUE * 3:
        raise BenchError(f"the pass executed {stats.steps} steps, not {DUE * 3}")
    return {"seconds": took, **stats.to_dict()}


def _waiting_store(folder: Path, count: int) -> Path:
    """A store of ``count`` participants waiting in the delay, :data:`DUE` of them due at T1."""
    path = folder / f"waiting-{count}-{_fingerprint()}.db"
    if not path.exists():
        for old in folder.glob(f"waiting-{count}-*.db"):
            old.unlink()
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        contact, participant = _templates(folder)
        with open_store(str(building)) as store:
            _apply_flow(store, folder)
            activate(store, FLOW_NAME, sms_configured=False, now=ACTIVATED)
        _fill_waiting(building, count, contact, participant)
        building.rename(path)
    return path


def _templates(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A contact row and a waiting participant row as the daemon itself writes them."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / "template.db"
        _build_ready(path, 1)
        with open_store(str(path)) as store:
            daemon = Daemon(store, Config.default())
            daemon.run_once(T0)
            daemon.close()
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        try:
            contact = dict(conn.execute("SELECT * FROM contacts").fetchone())
            participant = dict(conn.execute("SELECT * FROM participants").fetchone())
        finally:
            conn.close()
    if participant["status"] != "waiting":
        raise BenchError(f"the template participant is {participant['status']}, not waiting")
    return contact, participant


def _fill_waiting(
    path: Path, count: int, contact: dict[str, Any], participant: dict[str, Any]
) -> None:
    """``count`` contacts and their participants; every (count/DUE)th is due at or before T1."""
    every = count // DUE
    data = json.loads(contact["data"])
    # The daemon enters a contact as of its trigger event: its id holds that instant.
    entered = int(datetime.fromisoformat(participant["entered_at"]).timestamp())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)",
            (
                (i + 1, f"c{i}", f"person.{i}@example.com", *_contact_fields(data, i, contact))
                for i in range(count)
            ),
        )
        conn.executemany(
            f"INSERT INTO participants ({', '.join(participant)})"
            f" VALUES ({', '.join('?' * len(participant))})",
            (
                tuple({**participant, **_waiting_fields(i, every, entered)}.values())
                for i in range(count)
            ),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _contact_fields(data: dict[str, Any], i: int, row: dict[str, Any]) -> tuple[Any, ...]:
    mine = {**data, "id": f"c{i}", "email": f"person.{i}@example.com"}
    return json.dumps(mine, separators=(",", ":")), row["created_at"], row["updated_at"]


def _waiting_fields(i: int, every: int, entered: int) -> dict[str, Any]:
    if i % every == 0:
        due = T1 - timedelta(seconds=i % 3600)
    else:
        due = T1 + timedelta(seconds=60 + (i * 7919) % (30 * 86400))
    pid = f"{FLOW_NAME}/c{i}/{entered}"
    return {"id": pid, "cid": i + 1, "contact": f"c{i}", "due": ts(due)}


# -- the child process -----------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.daemon")
    parser.add_argument("command", choices=["drive"])
    parser.add_argument("store", help="a store made by the setup (a copy: it is changed)")
    parser.add_argument("--profile", metavar="FILE", help="write cProfile stats of the timed part")
    args = parser.parse_args(argv)
    print(json.dumps(_drive(args.store, args.profile)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
