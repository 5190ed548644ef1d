"""Moving a whole store to PostgreSQL: ``flowctl store migrate --from flowctl.db --to postgresql://…``.

A user who outgrows one machine keeps everything: flows and content with
every version, flow state and activation periods, contacts, events with
their processed markers, participants mid-flow, step history, counters,
the outbox, CRM objects, events held for paused flows, users and the audit
log. Keys are kept (a contact's ``cid``, an event's ``seq``, an outbox
``id``), so everything that refers to them still does, and the counters
behind them continue where the source stopped.

How: document versions go through the Store interface
(:meth:`~flowctl.store.base.Store.versions` →
:meth:`~flowctl.store.base.Store.add_version`). The interface has no bulk
read for the other tables (it serves the daemon and the commands, not a
copy), so this module reads the SQLite tables directly and streams them
into PostgreSQL with ``COPY``, in batches: the one place where the SQL of
both backends meets. The source is read in one snapshot; the destination
is written in one transaction and counted, table by table, before it
commits: a copy whose counts differ is rolled back, leaving the
destination as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from flowctl.errors import InputError, Refused, UsageError
from flowctl.store import open_store
from flowctl.store.postgres import PostgresStore
from flowctl.store.postgres_schema import TABLES, Conn
from flowctl.store.sqlite import SqliteStore

BATCH = 5_000
"""Rows read from the source, and written, at a time."""

Progress = Callable[[str, int, int], None]
"""Called as rows are copied: ``(table, rows copied so far in all, rows in all)``."""

_KEYS = {"heads": ("kind", "name")}
"""Tables the interface calls have started to fill: their rows are upserted, not copied."""


@dataclass(frozen=True)
class TableCount:
    """One table's rows in the source and, after the copy, in the destination."""

    table: str
    source: int
    destination: int

    @property
    def ok(self) -> bool:
        return self.source == self.destination


@dataclass(frozen=True)
class Migration:
    """What a copy did: the counts of every table (all equal, or it was rolled back)."""

    source: str
    destination: str
    tables: list[TableCount]

    @property
    def rows(self) -> int:
        return sum(t.destination for t in self.tables)


def migrate(
    source: str,
    destination: str,
    *,
    replace: bool = False,
    batch_size: int = BATCH,
    on_progress: Progress | None = None,
) -> Migration:
    """Copy the SQLite store at ``source`` into the PostgreSQL store at ``destination``.

    An empty destination is required unless ``replace``: then whatever it
    holds is deleted first (in the same transaction as the copy). Raises
    :class:`~flowctl.errors.Refused` for a destination that holds data and
    :class:`~flowctl.errors.InputError` when the counts do not match (nothing
    is written then).
    """
    if not source.startswith("sqlite:///") and "://" in source:
        raise UsageError(f"'{source}' is not a SQLite store", hint="--from flowctl.db")
    if not destination.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"'{destination}' is not a PostgreSQL URL", hint="--to postgresql://…")
    path = Path(source.removeprefix("sqlite://")).expanduser()
    if not path.is_file():
        raise UsageError(f"there is no store at {path}", hint="--from names the SQLite file")
    progress = on_progress or (lambda table, done, total: None)
    with open_store(source) as src, open_store(destination) as dst:
        if not isinstance(src, SqliteStore) or not isinstance(dst, PostgresStore):
            raise UsageError("store migrate copies a SQLite store into a PostgreSQL one")
        reader: sqlite3.Connection = src.db.conn
        reader.execute("BEGIN")  # one snapshot of the source, while it may still be in use
        try:
            with dst.transaction():
                _clear(dst, replace)
                try:
                    counts = _copy(src, dst, reader, batch_size, progress)
                except (psycopg.DataError, sqlite3.OperationalError) as exc:
                    # text SQLite took that PostgreSQL refuses, or that is not UTF-8
                    if isinstance(exc, sqlite3.OperationalError) and "decode" not in str(exc):
                        raise
                    raise InputError(
                        f"the source holds a value that cannot be copied ({exc}); nothing kept",
                        hint="find the row by that value, correct or delete it, and migrate again",
                    ) from exc
                if not all(c.ok for c in counts):
                    wrong = ", ".join(
                        f"{c.table} {c.source} → {c.destination}" for c in counts if not c.ok
                    )
                    raise InputError(f"the copy does not match its source ({wrong}); nothing kept")
        finally:
            reader.execute("ROLLBACK")
    return Migration(source, dst.where, counts)


def _clear(dst: PostgresStore, replace: bool) -> None:
    held = {t: n for t in TABLES if (n := _count_pg(dst.connection, t))}
    if not held:
        return
    if not replace:
        shown = ", ".join(f"{n} {t}" for t, n in held.items())
        raise Refused(
            f"the destination {dst.where} is not empty ({shown})",
            hint="migrate into an empty database, or add --replace to delete what it holds",
        )
    dst.connection.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY".encode())


def _copy(
    src: SqliteStore, dst: PostgresStore, reader: sqlite3.Connection, size: int, progress: Progress
) -> list[TableCount]:
    totals = {t: _count_sqlite(reader, t) for t in TABLES}
    total, done = sum(totals.values()), 0
    for doc in src.documents():  # versions through the interface; it makes their heads too
        for version in src.versions(doc.kind, doc.name):
            dst.add_version(version)
            done += 1
            progress("versions", done, total)
    for table in TABLES[1:]:
        for copied in _stream(reader, dst.connection, table, size):
            done += copied
            progress(table, done, total)
    _continue_identities(dst.connection)
    return [TableCount(t, totals[t], _count_pg(dst.connection, t)) for t in TABLES]


def _stream(reader: sqlite3.Connection, conn: Conn, table: str, size: int) -> Iterator[int]:
    """Copy one table in batches (yields the rows of each); columns both sides have."""
    theirs = [r[1] for r in reader.execute(f"PRAGMA table_info({table})")]
    ours = [r["column_name"] for r in conn.execute(_COLUMNS, (table,)).fetchall()]
    missing = [c for c in ours if c not in theirs and c not in _OPTIONAL]
    if missing:
        raise InputError(
            f"the source's table {table} has no column {', '.join(missing)}",
            hint="open the source with this flowctl once (it upgrades the file), then migrate",
        )
    columns = [c for c in ours if c in theirs]
    names = ", ".join(f'"{c}"' for c in columns)
    rows = reader.execute(f"SELECT {names} FROM {table} ORDER BY rowid")
    if table in _KEYS:
        key = _KEYS[table]
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in key)
        marks = ", ".join(["%s"] * len(columns))
        sql = (
            f"INSERT INTO {table} ({names}) VALUES ({marks})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
        )
        while batch := rows.fetchmany(size):
            with conn.cursor() as cur:
                cur.executemany(sql.encode(), batch)
            yield len(batch)
        return
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN".encode()) as copy:
        # SQLite keeps instants as ISO text and JSON as text: PostgreSQL reads both as they are
        while batch := rows.fetchmany(size):
            for row in batch:
                copy.write_row(row)
            yield len(batch)


def _continue_identities(conn: Conn) -> None:
    """Make the destination's generated keys go on after the highest key copied."""
    found = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall()
    for row in found:
        table, column = row["table_name"], row["column_name"]
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
            f" coalesce(max({column}), 0) + 1, false) FROM {table}".encode()
        )


_COLUMNS = (
    b"SELECT column_name FROM information_schema.columns"
    b" WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position"
)
_OPTIONAL = {"id", "lease_until"}
"""Columns the destination can fill itself (generated keys, unused leases)."""


def _count_sqlite(reader: sqlite3.Connection, table: str) -> int:
    try:
        return int(reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError as exc:
        raise InputError(f"the source has no table {table} ({exc})") from exc


def _count_pg(conn: Conn, table: str) -> int:
    row: dict[str, Any] | None = conn.execute(
        f"SELECT count(*) AS n FROM {table}".encode()
    ).fetchone()
    return int(row["n"]) if row else 0
