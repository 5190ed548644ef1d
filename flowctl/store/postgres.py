"""The PostgreSQL store: several daemons on several hosts share one database.

A :class:`PostgresStore` is one psycopg 3 connection in autocommit mode:
each call outside :meth:`~PostgresStore.transaction` is its own
transaction; :meth:`~PostgresStore.transaction` opens one (``BEGIN``) and
nests with savepoints. Sessions run in UTC, so instants come back as aware
UTC datetimes as from SQLite. How daemons share the work (row locks with
``SKIP LOCKED``, leases) is in :mod:`~flowctl.store.postgres_runtime`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import psycopg

from flowctl.engine.state import ParticipantState
from flowctl.errors import Refused
from flowctl.store import postgres_schema
from flowctl.store.base import FLOW_TABLES, Store
from flowctl.store.codec import contact_id, day_bounds, dumps, email_key
from flowctl.store.postgres_runtime import PostgresRuntime
from flowctl.store.postgres_schema import Conn, connect, redact, why
from flowctl.store.postgres_views import contact, document_row, flow_row, participant
from flowctl.store.records import (
    ACTIVE,
    DEACTIVATED,
    DRAFT,
    FLOW,
    PAUSED,
    Activation,
    ContactRow,
    FlowRow,
    NewEvent,
    Pause,
    StoredDocument,
)


class PostgresStore(PostgresRuntime, Store):
    """A store in the PostgreSQL database at ``url`` (``postgresql://user:pass@host:port/db``)."""

    def __init__(self, url: str):
        self.url = url
        self.where = redact(url)
        self._depth = 0
        self._conn = connect(url)
        try:
            self._version = postgres_schema.upgrade(self._conn, self.where)
        except BaseException:
            self._conn.close()
            raise

    # -- housekeeping ---------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if not self._depth:
            self._ensure()
        self._depth += 1
        try:
            with self._conn.transaction():
                yield
        except psycopg.OperationalError as exc:
            raise self.lost(exc) from exc
        finally:
            self._depth -= 1

    @property
    def schema_version(self) -> int:
        return self._version

    @property
    def connection(self) -> Conn:
        """The psycopg connection, for a tool that must speak SQL (the store copy)."""
        self._ensure()
        return self._conn

    # -- flows and content ----------------------------------------------

    def document(self, kind: str, name: str, version: int | None = None) -> StoredDocument | None:
        if version is None:
            rows = self._q(
                "SELECT v.* FROM versions v JOIN heads h USING (kind, name, version)"
                " WHERE kind = %s AND name = %s",
                (kind, name),
            )
        else:
            rows = self._q(
                "SELECT * FROM versions WHERE kind = %s AND name = %s AND version = %s",
                (kind, name, version),
            )
        return document_row(rows[0]) if rows else None

    def documents(self, kind: str | None = None) -> list[StoredDocument]:
        rows = self._q(
            "SELECT v.* FROM versions v JOIN heads h USING (kind, name, version)"
            " WHERE %(kind)s::text IS NULL OR kind = %(kind)s ORDER BY kind, name",
            {"kind": kind},
        )
        return [document_row(r) for r in rows]

    def versions(self, kind: str, name: str) -> list[StoredDocument]:
        rows = self._q(
            "SELECT * FROM versions WHERE kind = %s AND name = %s ORDER BY version", (kind, name)
        )
        return [document_row(r) for r in rows]

    def add_version(self, doc: StoredDocument) -> None:
        try:
            with self.transaction():
                head = self._q(
                    "SELECT version FROM heads WHERE kind = %s AND name = %s FOR UPDATE",
                    (doc.kind, doc.name),
                )
                current = head[0]["version"] if head else 0
                if doc.version != current + 1:
                    raise Refused(
                        f"{doc.kind.lower()}/{doc.name} is at version {current}, "
                        f"cannot store version {doc.version}",
                        hint="someone else applied it meanwhile; run the command again",
                    )
                self._x(
                    "INSERT INTO versions VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        doc.kind,
                        doc.name,
                        doc.version,
                        doc.hash,
                        doc.source,
                        dumps(doc.document),
                        doc.path,
                        doc.created_at,
                        doc.created_by,
                    ),
                )
                state = DRAFT if doc.kind == FLOW else None
                self._x(
                    "INSERT INTO heads VALUES (%s, %s, %s, %s, %s, %s, NULL)"
                    " ON CONFLICT (kind, name) DO UPDATE"
                    " SET version = excluded.version, updated_at = excluded.updated_at",
                    (doc.kind, doc.name, doc.version, state, doc.created_at, doc.created_at),
                )
        except psycopg.errors.UniqueViolation as exc:  # a concurrent apply of a new document
            raise Refused(
                f"{doc.kind.lower()}/{doc.name} was stored meanwhile ({why(exc)})",
                hint="someone else applied it meanwhile; run the command again",
            ) from exc

    def delete_document(self, kind: str, name: str) -> bool:
        with self.transaction():
            gone = self._x("DELETE FROM heads WHERE kind = %s AND name = %s", (kind, name))
            self._x("DELETE FROM versions WHERE kind = %s AND name = %s", (kind, name))
            if kind == FLOW:
                for table in FLOW_TABLES:
                    self._x(f"DELETE FROM {table} WHERE flow = %s", (name,))
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

    def flows(self, *, counts: bool = True) -> list[FlowRow]:
        columns = self._COUNTS if counts else " 0 AS participants, 0 AS succeeded"
        return [
            flow_row(r) for r in self._q(self._HEADS + columns + self._FROM + " ORDER BY h.name")
        ]

    def flow(self, name: str) -> FlowRow | None:
        rows = self._q(self._HEADS + self._COUNTS + self._FROM + " AND h.name = %s", (name,))
        return flow_row(rows[0]) if rows else None

    def set_flow_state(self, name: str, state: str, at: datetime) -> str:
        with self.transaction():
            rows = self._q(
                "SELECT state FROM heads WHERE kind = 'Flow' AND name = %s FOR UPDATE", (name,)
            )
            if not rows:
                raise Refused(f"flow/{name} does not exist")
            before = str(rows[0]["state"])
            if before == state:
                return before
            self._x(
                "UPDATE heads SET state = %s, updated_at = %s WHERE kind = 'Flow' AND name = %s",
                (state, at, name),
            )
            if state == ACTIVE and before in (DRAFT, DEACTIVATED):
                self._x("INSERT INTO activations (flow, started_at) VALUES (%s, %s)", (name, at))
            elif state == DEACTIVATED:
                self._x(
                    "UPDATE activations SET ended_at = %s WHERE flow = %s AND ended_at IS NULL",
                    (at, name),
                )
            if state == PAUSED and before != PAUSED:
                self._x("INSERT INTO pauses (flow, started_at) VALUES (%s, %s)", (name, at))
            elif before == PAUSED and state != PAUSED:
                self._x(
                    "UPDATE pauses SET ended_at = %s WHERE flow = %s AND ended_at IS NULL",
                    (at, name),
                )
            return before

    def activations(self, name: str) -> list[Activation]:
        rows = self._q("SELECT * FROM activations WHERE flow = %s ORDER BY started_at, id", (name,))
        return [Activation(r["flow"], r["started_at"], r["ended_at"]) for r in rows]

    def pauses(self) -> list[Pause]:
        rows = self._q("SELECT * FROM pauses ORDER BY flow, started_at, id")
        return [Pause(r["flow"], r["started_at"], r["ended_at"]) for r in rows]

    def mark_shown(self, name: str, at: datetime) -> None:
        self._x("UPDATE heads SET shown_at = %s WHERE kind = 'Flow' AND name = %s", (at, name))

    # -- contacts -------------------------------------------------------

    def find_contacts(
        self, ids: Iterable[str] = (), emails: Iterable[str] = ()
    ) -> list[ContactRow]:
        rows = self._q(
            "SELECT * FROM contacts WHERE id = ANY(%s) OR email = ANY(%s) ORDER BY cid",
            (list(dict.fromkeys(ids)), list(dict.fromkeys(e.lower() for e in emails))),
        )
        return [contact(r) for r in rows]

    def contact_keys(
        self, ids: Iterable[str] = (), emails: Iterable[str] = ()
    ) -> tuple[dict[str, int], dict[str, int]]:
        wanted_ids, wanted_emails = set(ids), {e.lower() for e in emails}
        rows = self._q(
            "SELECT id, email, cid FROM contacts WHERE id = ANY(%s) OR email = ANY(%s)",
            (list(wanted_ids), list(wanted_emails)),
        )
        by_id = {r["id"]: r["cid"] for r in rows if r["id"] in wanted_ids}
        by_email = {r["email"]: r["cid"] for r in rows if r["email"] in wanted_emails}
        return by_id, by_email

    def contact(self, cid: int) -> ContactRow | None:
        rows = self._q("SELECT * FROM contacts WHERE cid = %s", (cid,))
        return contact(rows[0]) if rows else None

    def contacts(self, *, limit: int = 100, offset: int = 0) -> list[ContactRow]:
        rows = self._q("SELECT * FROM contacts ORDER BY cid LIMIT %s OFFSET %s", (limit, offset))
        return [contact(r) for r in rows]

    def count_contacts(self) -> int:
        return int(self._q("SELECT count(*) AS n FROM contacts")[0]["n"])

    def insert_contacts(self, rows: Sequence[Mapping[str, Any]], at: datetime) -> list[int]:
        if not rows:
            return []
        try:
            with self.transaction():
                keys = self._q(
                    "SELECT nextval(pg_get_serial_sequence('contacts', 'cid')) AS cid"
                    " FROM generate_series(1, %s)",
                    (len(rows),),
                )
                cids = [int(k["cid"]) for k in keys]
                self._bulk(
                    "INSERT INTO contacts SELECT v.cid, v.id, v.email, v.data::json, %s, %s"
                    " FROM {rows}",
                    "cid bigint, id text, email text, data text",
                    [
                        (cid, contact_id(row), email_key(row), dumps(row))
                        for cid, row in zip(cids, rows, strict=True)
                    ],
                    (at, at),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise Refused(f"a contact with that id or e-mail exists already ({why(exc)})") from exc
        return cids

    def update_contacts(self, rows: Sequence[tuple[int, Mapping[str, Any]]], at: datetime) -> None:
        values = [(cid, contact_id(data), email_key(data), dumps(data)) for cid, data in rows]
        shape = "cid bigint, id text, email text, data text"
        try:
            with self.transaction():
                # Keys given up are freed first: one contact may take a key another gives up.
                self._bulk(
                    "UPDATE contacts c SET id = NULL, email = NULL FROM {rows} WHERE c.cid = v.cid"
                    " AND (c.id IS DISTINCT FROM v.id OR c.email IS DISTINCT FROM v.email)",
                    shape,
                    values,
                )
                self._bulk(
                    "UPDATE contacts c SET id = v.id, email = v.email, data = v.data::json,"
                    " updated_at = %s FROM {rows} WHERE c.cid = v.cid",
                    shape,
                    values,
                    (at,),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise Refused(f"a contact with that id or e-mail exists already ({why(exc)})") from exc

    # -- events ---------------------------------------------------------

    def add_events(self, events: Sequence[NewEvent], at: datetime) -> int:
        return self._bulk(
            "INSERT INTO events (id, cid, type, occurred_at, received_at, data)"
            " SELECT v.id, v.cid, v.type, v.occurred_at, %s, v.data::json FROM {rows}"
            " ON CONFLICT (id) DO NOTHING",
            "id text, cid bigint, type text, occurred_at timestamptz, data text",
            [(e.id, e.cid, e.type, e.occurred_at, dumps(e.data)) for e in events],
            (at,),
        )

    def add_events_for(self, cids: Sequence[int], type: str, at: datetime) -> int:
        return self._x(
            "INSERT INTO events (cid, type, occurred_at, received_at, data)"
            " SELECT v.cid, %s, %s, %s, '{}' FROM unnest(%b::bigint[]) WITH ORDINALITY"
            " AS v(cid, n) ORDER BY v.n",
            (type, at, at, list(cids)),
        )

    def known_event_ids(self, ids: Iterable[str]) -> set[str]:
        rows = self._q("SELECT id FROM events WHERE id = ANY(%s)", (list(dict.fromkeys(ids)),))
        return {r["id"] for r in rows}

    def events_for(self, cid: int, *, limit: int = 1000) -> list[Mapping[str, Any]]:
        rows = self._q(
            "SELECT id, type, occurred_at AS at, data FROM events WHERE cid = %s"
            " ORDER BY occurred_at, seq LIMIT %s",
            (cid, limit),
        )
        return [{"id": r["id"], "type": r["type"], "at": r["at"], "data": r["data"]} for r in rows]

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
            status = "CASE WHEN status = 'waiting' AND due <= %s THEN 'active' ELSE status END"
            params.append(due_by)
        sql = f"SELECT {status} AS s, count(*) AS n FROM participants WHERE flow = %s"
        params.append(flow)
        if since or until:
            sql += " AND entered_at >= %s AND entered_at < %s"
            params += list(day_bounds(since, until))
        rows = self._q(sql + " GROUP BY 1", params)
        return {r["s"]: int(r["n"]) for r in rows}

    def succeeded_count(
        self, flow: str, *, since: date | None = None, until: date | None = None
    ) -> int:
        rows = self._q(
            "SELECT count(*) AS n FROM participants WHERE flow = %s"
            " AND succeeded_at IS NOT NULL AND entered_at >= %s AND entered_at < %s",
            (flow, *day_bounds(since, until)),
        )
        return int(rows[0]["n"])

    def live_participants(self, flow: str) -> list[ParticipantState]:
        live = "p.flow = %s AND p.status IN ('active', 'waiting') ORDER BY p.entered_at, p.id"
        if self._in_transaction():
            # Read to be written back (a deactivation canceling them): lock the rows, contact
            # first as the daemons' claims do, so no batch advances them in between and no
            # daemon ever waits for us while we wait for it.
            sql = f"SELECT p.* FROM contacts c JOIN participants p USING (cid) WHERE {live}"
            sql += " FOR UPDATE OF c, p"
        else:
            sql = f"SELECT p.* FROM participants p WHERE {live}"
        return [participant(r) for r in self._q(sql, (flow,))]

    def update_participants(self, states: Sequence[ParticipantState]) -> None:
        self.write_participants(states)  # one statement: atomic on its own
