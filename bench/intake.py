"""Bulk intake: ``import_contacts`` of 100,000 contacts and ``ingest_events`` of 100,000 events.

Each is timed as a library call, the records read beforehand (reading the
file is timed on its own, in ``detail``), five times in turn with its baseline;
the best of each is compared. The baseline is what SQLite itself
costs for the same writes: bare ``executemany`` calls, in one transaction,
of the very rows the command wrote (read back from its store, already
tuples), into a copy of the store file as the command found it (same
tables, indexes and rows). For an import: the contacts and their
``contact_created`` events into a new store. For an ingest: the events, the
contacts they created and their ``contact_created`` events, and the updates
of the contacts they changed, into the store holding the imported contacts.
The target is at least half the baseline's rows per second, i.e. at most
twice its time.

Events go to a store that holds the contacts already (the usual case): page
visits, e-mail opens, form submissions and 10% ``tag_added`` (which change
the contact); 1% name a contact not yet known, who is created.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import BenchError, Measurement, Settings, Target
from flowctl.load.records import Record, read_records
from flowctl.operate.intake import import_contacts, ingest_events
from flowctl.store import open_store

ROWS = 100_000
ROWS_QUICK = 10_000
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TARGET = Target(2.0, of="ratio")
"""Time at most 2 times the bare insert's: at least half its rows per second."""


def run(settings: Settings) -> list[Measurement]:
    count = ROWS_QUICK if settings.quick else ROWS
    repeat = 1 if settings.quick else 5
    folder = settings.data_dir / "intake"
    folder.mkdir(parents=True, exist_ok=True)
    contacts_file = _contacts_file(folder / f"contacts-{count}.csv", count)
    events_file = _events_file(folder / f"events-{count}.jsonl", count)
    contacts, read_contacts = _read(contacts_file)
    events, read_events = _read(events_file)
    with tempfile.TemporaryDirectory(prefix="flowctl-bench-") as tmp:
        work = Path(tmp)
        with open_store(str(work / "new.db")) as store:
            store.count_contacts()  # the layout exists once opened
        imported, bare_contacts = _in_turn(
            lambda attempt: _import(work, contacts, attempt),
            lambda: _bare(work, "new.db", "import-0.db"),
            repeat,
        )
        # Every import wrote the same store: the ingest runs start from one.
        shutil.copy(work / "import-0.db", work / "with-contacts.db")
        ingested, bare_events = _in_turn(
            lambda attempt: _ingest(work, events, attempt),
            lambda: _bare(work, "with-contacts.db", "ingest-0.db"),
            repeat,
        )
    return [
        *_figures(f"import {count:,} contacts", count, imported, bare_contacts, read_contacts),
        *_figures(f"ingest {count:,} events", count, ingested, bare_events, read_events),
    ]


def _in_turn(
    ours: Callable[[int], float], bare: Callable[[], Callable[[int], float]], repeat: int
) -> tuple[list[float], list[float]]:
    """``repeat`` timings of ours and of the bare writes, taken in turn, so that both
    meet the machine in the same state. The bare writes are what our first run wrote."""
    timed = [ours(0)]
    bare_once = bare()
    floor = [bare_once(0)]
    for attempt in range(1, repeat):
        timed.append(ours(attempt))
        floor.append(bare_once(attempt))
    return timed, floor


def _figures(
    name: str, rows: int, timed: list[float], bare: list[float], read: float
) -> list[Measurement]:
    best, base = min(timed), min(bare)
    detail: dict[str, Any] = {
        "runs": timed,
        "bare_runs": bare,
        "rows_per_s": rows / best,
        "bare_rows_per_s": rows / base,
        "throughput_ratio": base / best,
        "reading_the_file_s": read,
    }
    return [
        Measurement(f"{name}: rows/s", rows / best, "rows/s", rows / base, "bare sqlite3"),
        Measurement(f"{name}: time", best, "s", base, "bare sqlite3", TARGET, detail),
    ]


def _read(path: Path) -> tuple[list[Record], float]:
    start = time.perf_counter()
    records = list(read_records(path))
    return records, time.perf_counter() - start


def _import(work: Path, records: list[Record], attempt: int) -> float:
    with open_store(str(work / f"import-{attempt}.db")) as store:
        start = time.perf_counter()
        result = import_contacts(store, records, NOW)
        took = time.perf_counter() - start
        if result.created != len(records) or store.count_contacts() != len(records):
            raise BenchError(f"import created {result.created} of {len(records)} contacts")
    _drop(work / f"import-{attempt}.db", attempt)
    return took


def _ingest(work: Path, records: list[Record], attempt: int) -> float:
    path = work / f"ingest-{attempt}.db"
    shutil.copy(work / "with-contacts.db", path)
    with open_store(str(path)) as store:
        start = time.perf_counter()
        result = ingest_events(store, records, NOW)
        took = time.perf_counter() - start
    if result.added != len(records) or result.rejected:
        raise BenchError(f"ingest added {result.added} of {len(records)} events")
    _drop(path, attempt)
    return took


def _drop(path: Path, attempt: int) -> None:
    """Remove the store of a run but the first (whose rows the baseline writes)."""
    if attempt:
        path.unlink()


def _bare(work: Path, before: str, after: str) -> Callable[[int], float]:
    """Bare SQLite, timed by the function returned: the rows store ``after`` holds
    that ``before`` did not (and the contacts it changed), written into a copy of
    ``before`` in one transaction."""
    writes = _writes(work / before, work / after)

    def once(attempt: int) -> float:
        path = work / f"bare-{attempt}.db"
        shutil.copy(work / before, path)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")  # as the store sets it; WAL is the file's
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for sql, rows in writes:
            conn.executemany(sql, rows)
        conn.execute("COMMIT")
        took = time.perf_counter() - start
        conn.close()
        path.unlink()
        return took

    return once


def _writes(before: Path, after: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The statements and rows that turn store ``before`` into ``after``: contacts
    inserted, contacts updated, events inserted, in the order the store writes them."""
    conn = sqlite3.connect(after)
    try:
        conn.execute("ATTACH DATABASE ? AS old", (str(before),))
        (last_cid,) = conn.execute("SELECT coalesce(max(cid), 0) FROM old.contacts").fetchone()
        (last_seq,) = conn.execute("SELECT coalesce(max(seq), 0) FROM old.events").fetchone()
        new = conn.execute("SELECT * FROM contacts WHERE cid > ? ORDER BY cid", (last_cid,))
        changed = conn.execute(
            "SELECT c.id, c.email, c.data, c.updated_at, c.cid FROM contacts c"
            " JOIN old.contacts o USING (cid) WHERE c.data IS NOT o.data ORDER BY cid"
        )
        events = conn.execute(
            "SELECT id, cid, type, occurred_at, received_at, data FROM events WHERE seq > ?"
            " ORDER BY seq",
            (last_seq,),
        )
        return [
            ("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)", new.fetchall()),
            (
                "UPDATE contacts SET id = ?, email = ?, data = ?, updated_at = ? WHERE cid = ?",
                changed.fetchall(),
            ),
            (
                "INSERT INTO events (id, cid, type, occurred_at, received_at, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                events.fetchall(),
            ),
        ]
    finally:
        conn.close()


def _contacts_file(path: Path, count: int) -> Path:
    if path.exists():
        return path
    rng = random.Random(7)
    lines = ["id,email,first_name,last_name,company,country,timezone,tags,unsubscribed"]
    for i in range(count):
        country, zone = rng.choice(_PLACES)
        tags = rng.choice(["", "", "newsletter", "newsletter;vip", "customer"])
        first, last = _FIRST[i % len(_FIRST)], rng.choice(_LAST)
        lines.append(
            f"c{i},{_email(i)},{first},{last},Company {i % 997},"
            f"{country},{zone},{tags},{rng.random() < 0.05}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _events_file(path: Path, count: int) -> Path:
    if path.exists():
        return path
    rng = random.Random(11)
    start = NOW - timedelta(days=30)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            email = _email(rng.randrange(count))
            if rng.random() < 0.01:
                email = f"new.{i}@example.org"
            kind, data = rng.choice(_EVENTS)(rng)
            at = start + timedelta(seconds=i * 20)
            event = {
                "type": kind,
                "contact": {"email": email},
                "occurred_at": at.isoformat(timespec="seconds"),
                "id": f"e{i}",
                "data": data,
            }
            out.write(json.dumps(event) + "\n")
    return path


def _email(i: int) -> str:
    return f"{_FIRST[i % len(_FIRST)].lower()}.{i}@example.com"


_PLACES = [("NO", "Europe/Oslo"), ("SE", "Europe/Stockholm"), ("DE", "Europe/Berlin")]
_PLACES += [("US", "America/New_York"), ("GB", "Europe/London")]
_FIRST = ["Ann", "Bo", "Carl", "Dina", "Eva", "Finn", "Gro", "Hans"]
_LAST = ["Berg", "Dahl", "Lund", "Moe", "Strand", "Vik"]
_EVENTS: list[Callable[[random.Random], tuple[str, dict[str, Any]]]] = [
    lambda rng: ("page_visited", {"url": f"https://example.com/p/{rng.randrange(50)}"}),
    lambda rng: ("page_visited", {"url": "https://example.com/pricing"}),
    lambda rng: ("email_opened", {"mailing": f"news-{rng.randrange(5)}"}),
    lambda rng: ("email_link_clicked", {"mailing": "news-1", "url": "https://example.com/a"}),
    lambda rng: ("form_submitted", {"form": rng.choice(["contact-me", "demo"])}),
    lambda rng: ("sale_created", {"offer": "basic"}),
    lambda rng: ("event", {"name": "trial_started"}),
    lambda rng: ("webinar_registered", {"webinar": "w1"}),
    lambda rng: ("course_enrolled", {"course": "c1"}),
    lambda rng: ("tag_added", {"tag": rng.choice(["hot", "webinar", "vip"])}),
]
