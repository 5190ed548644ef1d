"""The embedded SQLite store: one file, nothing to install.

WAL mode lets readers work while one writer commits; a busy timeout makes a
second writer (the CLI beside the daemon) wait its turn instead of failing
with "database is locked". Write transactions start with ``BEGIN
IMMEDIATE`` so two writers never deadlock upgrading a read lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from flowctl.engine.state import ParticipantState
from flowctl.errors import FlowctlError, InputError, Refused, UsageError
from flowctl.store import sqlite_schema
from flowctl.store.base import FLOW_TABLES, Store
from flowctl.store.codec import (
    CONTACT_COLUMNS,
    contact_id,
    contact_row,
    day_bounds,
    dumps,
    dumps_each,
    email_key,
    instant,
    instant_or_none,
    loads,
    participant,
    ts,
    ts_or_none,
)
from flowctl.store.records import (
    ACTIVE,
    DEACTIVATED,
    DRAFT,
    FLOW,
    PAUSED,
    Activation,
    AuditEntry,
    ContactRow,
    FlowRow,
    NewEvent,
    Pause,
    StoredDocument,
)
from flowctl.store.sqlite_runtime import SqliteRuntime

BUSY_TIMEOUT_MS = 60_000
"""How long a writer waits for another one before giving up."""
CHECKPOINT_PAGES = 8192
"""Pages (of 4 KiB) the write-ahead log grows by before it is copied into the file."""
BULK_CHECKPOINT_PAGES = 65_536
"""The same within :meth:`SqliteStore.bulk`."""

_IN_JSON = "SELECT {what} FROM contacts WHERE {column} IN (SELECT value FROM json_each(?))"
"""Rows whose ``column`` is among the values of a JSON list: one statement for any number."""
_UPDATE = "UPDATE contacts SET data = ?1, updated_at = ?2, id = ?4, email = ?5 WHERE cid = ?3"
_UPDATE_SAME_KEYS = (
    "UPDATE contacts SET data = ?1, updated_at = ?2 WHERE cid = ?3 AND id IS ?4 AND email IS ?5"
)
_UPDATE_OTHER_KEYS = _UPDATE + " AND (id IS NOT ?4 OR email IS NOT ?5)"
_FREE_KEYS = (
    "UPDATE contacts SET id = NULL, email = NULL"
    " WHERE cid = ?3 AND (id IS NOT ?4 OR email IS NOT ?5)"
)


class SqliteStore(SqliteRuntime, Store):
    """A store in one SQLite file (``path``), or in memory with ``":memory:"``."""

    def __init__(self, path: str | Path, *, url: str | None = None):
        self.url = url or str(path)
        self.path = str(path)
        self._conn = _connect(self.path)
        self._depth = 0
        self.db = Database(self._conn)
        try:
            self._version = _upgrade(self)
        except BaseException:
            self._conn.close()
            raise

    # -- housekeeping ---------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            # A savepoint: a failing inner unit undoes its own writes only.
            name = f"sp{self._depth}"
            self._conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._conn.execute(f"ROLLBACK TO {name}")
                raise
            finally:
                self._depth -= 1
                self._conn.execute(f"RELEASE {name}")
            return
        _run(self._conn, "BEGIN IMMEDIATE", where=self.url)
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        _run(self._conn, "COMMIT", where=self.url)

    @contextmanager
    def bulk(self) -> Iterator[None]:
        # Each checkpoint syncs the log and the file to disk: in bulk, one every
        # 256 MiB of log (not 32) and one at the end. Within a transaction (one
        # HTTP request's) there is nothing to put off.
        if self._depth:
            yield
            return
        self._conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @property
    def schema_version(self) -> int:
        return self._version

    def _q(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        return self._conn.execute(sql, params).fetchall()

    def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Like :meth:`_q` but plain tuples: cheaper when there are many rows."""
        cursor = self._conn.cursor()
        cursor.row_factory = None
        rows: list[tuple[Any, ...]] = cursor.execute(sql, params).fetchall()
        return rows

    # -- flows and content ----------------------------------------------

    def document(self, kind: str, name: str, version: int | None = None) -> StoredDocument | None:
        if version is None:
            rows = self._q(
                "SELECT v.* FROM versions v JOIN heads h USING (kind, name, version)"
                " WHERE kind = ? AND name = ?",
                (kind, name),
            )
        else:
            rows = self._q(
                "SELECT * FROM versions WHERE kind = ? AND name = ? AND version = ?",
                (kind, name, version),
            )
        return _document(rows[0]) if rows else None

    def documents(self, kind: str | None = None) -> list[StoredDocument]:
        sql = "SELECT v.* FROM versions v JOIN heads h USING (kind, name, version)"
        rows = (
            self._q(sql + " WHERE kind = ? ORDER BY name", (kind,))
            if kind
            else self._q(sql + " ORDER BY kind, name")
        )
        return [_document(r) for r in rows]

    def versions(self, kind: str, name: str) -> list[StoredDocument]:
        rows = self._q(
            "SELECT * FROM versions WHERE kind = ? AND name = ? ORDER BY version", (kind, name)
        )
        return [_document(r) for r in rows]

    def add_version(self, doc: StoredDocument) -> None:
        with self.transaction():
            head = self._q(
                "SELECT version FROM heads WHERE kind = ? AND name = ?", (doc.kind, doc.name)
            )
            current = head[0]["version"] if head else 0
            if doc.version != current + 1:
                raise Refused(
                    f"{doc.kind.lower()}/{doc.name} is at version {current}, "
                    f"cannot store version {doc.version}",
                    hint="someone else applied it meanwhile; run the command again",
                )
            at = ts(doc.created_at)
            self._conn.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.kind,
                    doc.name,
                    doc.version,
                    doc.hash,
                    doc.source,
                    dumps(doc.document),
                    doc.path,
                    at,
                    doc.created_by,
                ),
            )
            if head:
                self._conn.execute(
                    "UPDATE heads SET version = ?, updated_at = ? WHERE kind = ? AND name = ?",
                    (doc.version, at, doc.kind, doc.name),
                )
            else:
                state = DRAFT if doc.kind == FLOW else None
                self._conn.execute(
                    "INSERT INTO heads VALUES (?, ?, ?, ?, ?, ?, NULL)",
                    (doc.kind, doc.name, doc.version, state, at, at),
                )

    def delete_document(self, kind: str, name: str) -> bool:
        with self.transaction():
            gone = self._conn.execute(
                "DELETE FROM heads WHERE kind = ? AND name = ?", (kind, name)
            ).rowcount
            self._conn.execute("DELETE FROM versions WHERE kind = ? AND name = ?", (kind, name))
            if kind == FLOW:
                for table in FLOW_TABLES:
                    self._conn.execute(f"DELETE FROM {table} WHERE flow = ?", (name,))
        return bool(gone)

    # -- flow state -----------------------------------------------------

    _HEADS = (
        "SELECT h.name, h.version, h.state, h.created_at, h.updated_at, h.shown_at,"
        " v.document, (SELECT started_at FROM activations a WHERE a.flow = h.name"
        "   AND a.ended_at IS NULL ORDER BY started_at DESC LIMIT 1) AS activated_at,"
    )
    _COUNTS = (
        " (SELECT count(*) FROM participants p WHERE p.flow = h.name) AS participants,"
        " (SELECT count(*) FROM participants p WHERE p.flow = h.name"
        "   AND p.succeeded_at IS NOT NULL) AS succeeded"
    )
    _FROM = " FROM heads h JOIN versions v USING (kind, name, version) WHERE h.kind = 'Flow'"
    _FLOWS = _HEADS + _COUNTS + _FROM

    def flows(self, *, counts: bool = True) -> list[FlowRow]:
        columns = self._COUNTS if counts else " 0 AS participants, 0 AS succeeded"
        return [_flow(r) for r in self._q(self._HEADS + columns + self._FROM + " ORDER BY h.name")]

    def flow(self, name: str) -> FlowRow | None:
        rows = self._q(self._FLOWS + " AND h.name = ?", (name,))
        return _flow(rows[0]) if rows else None

    def set_flow_state(self, name: str, state: str, at: datetime) -> str:
        with self.transaction():
            rows = self._q("SELECT state FROM heads WHERE kind = 'Flow' AND name = ?", (name,))
            if not rows:
                raise Refused(f"flow/{name} does not exist")
            before = str(rows[0]["state"])
            if before == state:
                return before
            self._conn.execute(
                "UPDATE heads SET state = ?, updated_at = ? WHERE kind = 'Flow' AND name = ?",
                (state, ts(at), name),
            )
            if state == ACTIVE and before in (DRAFT, DEACTIVATED):
                self._conn.execute(
                    "INSERT INTO activations (flow, started_at) VALUES (?, ?)", (name, ts(at))
                )
            elif state == DEACTIVATED:
                self._conn.execute(
                    "UPDATE activations SET ended_at = ? WHERE flow = ? AND ended_at IS NULL",
                    (ts(at), name),
                )
            if state == PAUSED and before != PAUSED:
                self._conn.execute(
                    "INSERT INTO pauses (flow, started_at) VALUES (?, ?)", (name, ts(at))
                )
            elif before == PAUSED and state != PAUSED:
                self._conn.execute(
                    "UPDATE pauses SET ended_at = ? WHERE flow = ? AND ended_at IS NULL",
                    (ts(at), name),
                )
            return before

    def activations(self, name: str) -> list[Activation]:
        rows = self._q(
            "SELECT * FROM activations WHERE flow = ? ORDER BY started_at, rowid", (name,)
        )
        return [
            Activation(r["flow"], instant(r["started_at"]), instant_or_none(r["ended_at"]))
            for r in rows
        ]

    def pauses(self) -> list[Pause]:
        rows = self._q("SELECT * FROM pauses ORDER BY flow, started_at, rowid")
        return [
            Pause(r["flow"], instant(r["started_at"]), instant_or_none(r["ended_at"])) for r in rows
        ]

    def mark_shown(self, name: str, at: datetime) -> None:
        with self.transaction():
            self._conn.execute(
                "UPDATE heads SET shown_at = ? WHERE kind = 'Flow' AND name = ?", (ts(at), name)
            )

    # -- contacts -------------------------------------------------------

    def find_contacts(
        self, ids: Iterable[str] = (), emails: Iterable[str] = ()
    ) -> list[ContactRow]:
        found: dict[int, ContactRow] = {}
        for column, values in (("id", list(ids)), ("email", [e.lower() for e in emails])):
            if values:
                sql = _IN_JSON.format(what=CONTACT_COLUMNS, column=column)
                for row in self._tuples(sql, (_list(values),)):
                    found[row[0]] = contact_row(row)
        return list(found.values())

    def contact_keys(
        self, ids: Iterable[str] = (), emails: Iterable[str] = ()
    ) -> tuple[dict[str, int], dict[str, int]]:
        # Each read from its own index alone (the index holds the key and cid).
        found: list[dict[str, int]] = []
        for column, values in (("id", list(ids)), ("email", [e.lower() for e in emails])):
            sql = _IN_JSON.format(what=f"{column}, cid", column=column)
            found.append(dict(self._tuples(sql, (_list(values),))) if values else {})
        return found[0], found[1]

    def contact(self, cid: int) -> ContactRow | None:
        rows = self._q(f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE cid = ?", (cid,))
        return contact_row(rows[0]) if rows else None

    def contacts(self, *, limit: int = 100, offset: int = 0) -> list[ContactRow]:
        rows = self._q(
            f"SELECT {CONTACT_COLUMNS} FROM contacts ORDER BY cid LIMIT ? OFFSET ?", (limit, offset)
        )
        return [contact_row(r) for r in rows]

    def count_contacts(self) -> int:
        return int(self._q("SELECT count(*) FROM contacts")[0][0])

    def insert_contacts(self, rows: Sequence[Mapping[str, Any]], at: datetime) -> list[int]:
        now = ts(at)
        texts = dumps_each(rows)
        with self.transaction():
            start = self._q("SELECT coalesce(max(cid), 0) FROM contacts")[0][0]
            cids = list(range(start + 1, start + 1 + len(rows)))
            try:
                self._conn.executemany(
                    "INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (cid, contact_id(row), email_key(row), text, now, now)
                        for cid, row, text in zip(cids, rows, texts, strict=True)
                    ],
                )
            except sqlite3.IntegrityError as exc:
                raise Refused(f"a contact with that id or e-mail exists already ({exc})") from exc
        return cids

    def update_contacts(self, rows: Sequence[tuple[int, Mapping[str, Any]]], at: datetime) -> None:
        now = ts(at)
        texts = dumps_each([data for _, data in rows])
        params = [
            (text, now, cid, contact_id(data), email_key(data))
            for (cid, data), text in zip(rows, texts, strict=True)
        ]
        # Most changes keep the keys: writing those rows first, without naming the
        # key columns, spares rewriting both unique indexes. Then the others, if
        # any, their old keys freed first: one may take a key another gives up.
        # (A contact given twice is written in order, as given.)
        once = len({cid for cid, _ in rows}) == len(rows)
        with self.transaction():
            try:
                if not once:
                    self._conn.executemany(_UPDATE, params)
                    return
                before = self._conn.total_changes
                self._conn.executemany(_UPDATE_SAME_KEYS, params)
                if self._conn.total_changes - before < len(params):
                    self._conn.executemany(_FREE_KEYS, params)
                    self._conn.executemany(_UPDATE_OTHER_KEYS, params)
            except sqlite3.IntegrityError as exc:
                raise Refused(f"a contact with that id or e-mail exists already ({exc})") from exc

    # -- events ---------------------------------------------------------

    def add_events(self, events: Sequence[NewEvent], at: datetime) -> int:
        if not events:
            return 0
        received = ts(at)
        rows = [(i, cid, t, ts(at), received, dumps(d)) for cid, t, at, d, i, _ in events]
        with self.transaction():
            before = self._conn.total_changes
            self._conn.executemany(
                "INSERT OR IGNORE INTO events (id, cid, type, occurred_at, received_at, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            return self._conn.total_changes - before

    def add_events_for(self, cids: Sequence[int], type: str, at: datetime) -> int:
        if not cids:
            return 0
        stamp = ts(at)
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO events (cid, type, occurred_at, received_at, data)"
                " SELECT value, ?, ?, ?, '{}' FROM json_each(?) ORDER BY key",
                (type, stamp, stamp, json.dumps(list(cids))),
            )
            return cursor.rowcount

    def known_event_ids(self, ids: Iterable[str]) -> set[str]:
        values = list(ids)
        if not values:
            return set()
        # Each looked up as it comes: IN (…) would first build an index of the list.
        sql = "SELECT e.id FROM json_each(?) j CROSS JOIN events e ON e.id = j.value"
        return {r[0] for r in self._tuples(sql, (_list(values),))}

    def events_for(self, cid: int, *, limit: int = 1000) -> list[Mapping[str, Any]]:
        rows = self._q(
            "SELECT id, type, occurred_at, data FROM events WHERE cid = ?"
            " ORDER BY occurred_at, seq LIMIT ?",
            (cid, limit),
        )
        return [
            {
                "id": r["id"],
                "type": r["type"],
                "at": instant(r["occurred_at"]),
                "data": loads(r["data"]),
            }
            for r in rows
        ]

    # -- participants ---------------------------------------------------

    def participant_counts(
        self,
        flow: str,
        *,
        since: date | None = None,
        until: date | None = None,
        due_by: datetime | None = None,
    ) -> dict[str, int]:
        status = "status"
        params: list[Any] = []
        if due_by is not None:
            status = "CASE WHEN status = 'waiting' AND due <= ? THEN 'active' ELSE status END"
            params.append(ts(due_by))
        sql = f"SELECT {status} AS s, count(*) FROM participants WHERE flow = ?"
        params.append(flow)
        if since or until:  # else the (flow, status) index alone answers
            start, end = day_bounds(since, until)
            sql += " AND entered_at >= ? AND entered_at < ?"
            params += [ts(start), ts(end)]
        rows = self._q(sql + " GROUP BY s", params)
        return {r[0]: int(r[1]) for r in rows}

    def succeeded_count(
        self, flow: str, *, since: date | None = None, until: date | None = None
    ) -> int:
        start, end = day_bounds(since, until)
        rows = self._q(
            "SELECT count(*) FROM participants WHERE flow = ? AND succeeded_at IS NOT NULL"
            " AND entered_at >= ? AND entered_at < ?",
            (flow, ts(start), ts(end)),
        )
        return int(rows[0][0])

    def live_participants(self, flow: str) -> list[ParticipantState]:
        rows = self._q(
            "SELECT * FROM participants WHERE flow = ? AND status IN ('active', 'waiting')"
            " ORDER BY entered_at, id",
            (flow,),
        )
        return [participant(r) for r in rows]

    def update_participants(self, states: Sequence[ParticipantState]) -> None:
        with self.transaction():
            self._conn.executemany(
                "UPDATE participants SET version = ?, status = ?, step = ?, due = ?,"
                " succeeded_at = ?, ended_at = ?, reason = ?, data = ? WHERE id = ?",
                [
                    (
                        s.version,
                        s.status,
                        s.step,
                        ts_or_none(s.due),
                        ts_or_none(s.succeeded_at),
                        ts_or_none(s.ended_at),
                        s.reason,
                        dumps(s.blob()),
                        s.id,
                    )
                    for s in states
                ],
            )

    # -- users and audit ------------------------------------------------

    def users(self) -> dict[str, str]:
        return {r["name"]: r["role"] for r in self._q("SELECT name, role FROM users ORDER BY name")}

    def set_user(self, name: str, role: str, at: datetime) -> bool:
        with self.transaction():
            known = self._q("SELECT 1 FROM users WHERE name = ?", (name,))
            self._conn.execute(
                "INSERT INTO users VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET role = ?",
                (name, role, ts(at), role),
            )
        return not known

    def log(self, entry: AuditEntry) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT INTO audit (at, user, command, object, detail) VALUES (?, ?, ?, ?, ?)",
                (ts(entry.at), entry.user, entry.command, entry.object, entry.detail),
            )

    def audit_log(self, *, limit: int = 100, since: datetime | None = None) -> list[AuditEntry]:
        rows = self._q(
            "SELECT * FROM audit WHERE at >= ? ORDER BY at DESC, seq DESC LIMIT ?",
            (ts(since) if since else "", limit),
        )
        return [
            AuditEntry(instant(r["at"]), r["user"], r["command"], r["object"], r["detail"])
            for r in rows
        ]


def _connect(path: str) -> sqlite3.Connection:
    if path != ":memory:":
        folder = Path(path).expanduser().resolve().parent
        if not folder.is_dir():
            raise UsageError(
                f"cannot open the store {path}: the folder {folder} does not exist",
                hint="create the folder or point --store / FLOWCTL_STORE elsewhere",
            )
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: bulk intake rewrites index pages
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
    except sqlite3.DatabaseError as exc:
        raise _open_error(path, exc) from exc
    return conn


def _open_error(path: str, exc: sqlite3.DatabaseError) -> FlowctlError:
    text = str(exc)
    if Path(path).is_dir():
        return InputError(
            f"the store {path} is a folder, not a file",
            hint="point --store / FLOWCTL_STORE at a store file; a new one is made if missing",
        )
    if "not a database" in text or "malformed" in text:
        return InputError(
            f"{path} is not a flowctl store (not an SQLite database)",
            hint="point --store / FLOWCTL_STORE at a flowctl store, or at a new file",
        )
    if "readonly" in text or "unable to open" in text:
        return InputError(
            f"cannot write the store {path}: {text}",
            hint="check the file's and the folder's permissions",
        )
    return InputError(f"cannot use the store {path}: {text}")


def _run(conn: sqlite3.Connection, sql: str, *, where: str) -> None:
    try:
        conn.execute(sql)
    except sqlite3.OperationalError as exc:
        raise _open_error(where, exc) from exc


def _upgrade(store: SqliteStore) -> int:
    """Bring the file to the latest layout; returns the version it ends at."""
    conn = store._conn
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise _open_error(store.path, exc) from exc
    if tables and "meta" not in tables:
        raise InputError(
            f"{store.path} is an SQLite database but not a flowctl store",
            hint="point --store / FLOWCTL_STORE at a flowctl store, or at a new file",
        )
    if store.path != ":memory:":  # only now that the file is known to be ours
        _run(conn, "PRAGMA journal_mode = WAL", where=store.path)
    version = _version(conn) if tables else 0
    if version > sqlite_schema.LATEST:
        raise InputError(
            f"the store {store.path} has layout {version}, made by a newer flowctl "
            f"(this one reads up to {sqlite_schema.LATEST})",
            hint="upgrade flowctl",
        )
    while version < sqlite_schema.LATEST:
        with store.transaction():
            if version == 0:
                conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            if _version(conn) == version:  # another process may have upgraded meanwhile
                sqlite_schema.MIGRATIONS[version](store.db)
                conn.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(version + 1),),
                )
        version = _version(conn)
    return version


def _version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0


def _list(values: list[Any]) -> str:
    """A JSON list for ``json_each(?)`` (text as is: no escapes to undo)."""
    return json.dumps(values, ensure_ascii=False)


def _document(row: sqlite3.Row) -> StoredDocument:
    return StoredDocument(
        kind=row["kind"],
        name=row["name"],
        version=row["version"],
        hash=row["hash"],
        source=row["source"],
        document=json.loads(row["document"]),
        created_at=instant(row["created_at"]),
        created_by=row["created_by"],
        path=row["path"],
    )


def _flow(row: sqlite3.Row) -> FlowRow:
    meta = json.loads(row["document"]).get("metadata") or {}
    return FlowRow(
        name=row["name"],
        version=row["version"],
        state=row["state"],
        title=meta.get("title"),
        folder=meta.get("folder"),
        description=meta.get("description"),
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
        activated_at=instant_or_none(row["activated_at"]),
        shown_at=instant_or_none(row["shown_at"]),
        participants=row["participants"],
        succeeded=row["succeeded"],
    )
