"""The reading side of the PostgreSQL store: running SQL, and the views of what ran.

A mixin of :class:`~flowctl.store.postgres.PostgresStore` (through
:class:`~flowctl.store.postgres_runtime.PostgresRuntime`); it shares its
connection. Every query goes through :meth:`PostgresViews._q` or
:meth:`~PostgresViews._x` (:meth:`~PostgresViews._bulk` writes many rows in
one statement), which reconnect between transactions when the connection
broke and turn a failure of the server into one clear
:class:`~flowctl.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import psycopg

from flowctl.engine.state import ParticipantState
from flowctl.errors import InputError
from flowctl.store.codec import day_bounds
from flowctl.store.postgres_schema import Conn, connect
from flowctl.store.records import (
    AuditEntry,
    ContactRow,
    FlowRow,
    HistoryRow,
    OutMessage,
    StoredDocument,
)

Row = dict[str, Any]


class PostgresViews:
    """Queries over ``self._conn`` (provided by the store class)."""

    _conn: Conn
    _depth: int
    url: str
    where: str

    # -- running SQL -----------------------------------------------------------

    def _q(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        self._ensure()
        try:
            return self._conn.execute(sql.encode(), params).fetchall()
        except psycopg.OperationalError as exc:
            raise self.lost(exc) from exc

    def _x(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> int:
        self._ensure()
        try:
            return self._conn.execute(sql.encode(), params).rowcount
        except psycopg.OperationalError as exc:
            raise self.lost(exc) from exc

    def _bulk(
        self, sql: str, columns: str, rows: Sequence[Sequence[Any]], first: Sequence[Any] = ()
    ) -> int:
        """Run ``sql`` once for all ``rows``: its ``{rows}`` becomes ``unnest(…) AS v(…)``
        over one array per column of ``columns`` (``"name type, …"``), after the parameters
        ``first`` (those of placeholders before it). One statement, one round trip, where
        ``executemany`` pays both per row."""
        if not rows:
            return 0
        spec = [column.split() for column in columns.split(",")]
        arrays = ", ".join(f"%b::{kind}[]" for _, kind in spec)  # binary: dumped in C
        clause = f"unnest({arrays}) AS v({', '.join(name for name, _ in spec)})"
        arrays_of = [list(column) for column in zip(*rows, strict=True)]
        return self._x(sql.replace("{rows}", clause), [*first, *arrays_of])

    def _in_transaction(self) -> bool:
        return self._depth > 0

    def _ensure(self) -> None:
        """Connect again if the connection broke (server restart, network) between
        transactions; inside one the failure stands, so no half is committed alone."""
        if self._conn.broken and not self._depth:
            self._conn.close()
            self._conn = connect(self.url)

    def lost(self, exc: psycopg.OperationalError) -> InputError:
        """The error for a query the server could not run (connection gone, deadlock …)."""
        text = " ".join(str(exc).split())
        return InputError(
            f"the PostgreSQL store {self.where} failed: {text}",
            hint="the work of the failed transaction was rolled back; run the command again",
        )

    # -- views -------------------------------------------------------------------

    def messages(
        self, *, flow: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[OutMessage]:
        where, params = _filters(flow=flow, status=status)
        rows = self._q(f"SELECT * FROM outbox{where} ORDER BY id DESC LIMIT %s", (*params, limit))
        return [message(r) for r in rows]

    def participant_rows(
        self, flow: str, *, status: str | None = None, limit: int = 10_000
    ) -> list[Mapping[str, Any]]:
        rows = self._q(
            "SELECT p.*, c.data AS contact_data, m.content AS last_content,"
            " m.queued_at AS last_queued_at, m.status AS last_status"
            " FROM participants p JOIN contacts c USING (cid)"
            " LEFT JOIN LATERAL (SELECT content, queued_at, status FROM outbox o"
            "   WHERE o.participant = p.id AND o.channel = 'email' ORDER BY o.id DESC LIMIT 1)"
            "   m ON true"
            " WHERE p.flow = %(flow)s AND (%(status)s::text IS NULL OR p.status = %(status)s)"
            " ORDER BY p.entered_at DESC LIMIT %(limit)s",
            {"flow": flow, "status": status, "limit": limit},
        )
        return [
            {
                "state": participant(r),
                "contact": r["contact_data"],
                "last_mailing": r["last_content"],
                "last_mailing_date": r["last_queued_at"],
                "last_mailing_status": r["last_status"],
            }
            for r in rows
        ]

    def live_step_counts(self, flow: str) -> dict[str, int]:
        rows = self._q(
            "SELECT step, count(*) AS n FROM participants WHERE flow = %s"
            " AND status IN ('active', 'waiting') AND step IS NOT NULL GROUP BY step",
            (flow,),
        )
        return {r["step"]: int(r["n"]) for r in rows}

    def history(
        self, *, cid: int | None = None, flow: str | None = None, limit: int = 1000
    ) -> list[HistoryRow]:
        where, params = _filters(cid=cid, flow=flow)
        rows = self._q(
            "SELECT participant, flow, version, cid, at, step, type, outcome, detail"
            f" FROM history{where} ORDER BY at DESC, seq DESC LIMIT %s",
            (*params, limit),
        )
        return [HistoryRow(**r) for r in rows]

    def step_counts(
        self, flow: str, *, since: date | None = None, until: date | None = None
    ) -> dict[tuple[str, str], int]:
        rows = self._q(
            "SELECT step, outcome, sum(n) AS n FROM step_counts WHERE flow = %s AND day >= %s"
            " AND day <= %s GROUP BY step, outcome",
            (flow, since.isoformat() if since else "", until.isoformat() if until else "9999"),
        )
        return {(r["step"], r["outcome"]): int(r["n"]) for r in rows}

    def daily_counts(self, flow: str) -> dict[tuple[str, str], int]:
        rows = self._q("SELECT day, metric, n FROM daily_counts WHERE flow = %s", (flow,))
        return {(r["day"], r["metric"]): int(r["n"]) for r in rows}

    def sent_messages_count(
        self,
        flow: str,
        *,
        channel: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> dict[str, dict[str, int]]:
        start, end = day_bounds(since, until)
        rows = self._q(
            "SELECT content, status, count(*) AS n FROM outbox WHERE flow = %s"
            " AND content IS NOT NULL AND (%s::text IS NULL OR channel = %s)"
            " AND queued_at >= %s AND queued_at < %s AND queued_at >= coalesce((SELECT"
            " created_at FROM heads WHERE kind = 'Flow' AND name = %s), '-infinity')"
            " GROUP BY content, status",
            (flow, channel, channel, start, end, flow),
        )
        out: dict[str, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r["content"], {})[r["status"]] = int(r["n"])
        return out

    def crm_objects(self, cid: int) -> list[Mapping[str, Any]]:
        return list(
            self._q(
                "SELECT kind, flow, step, data, created_at FROM crm_objects WHERE cid = %s"
                " ORDER BY id",
                (cid,),
            )
        )

    # -- users and audit ------------------------------------------------

    def users(self) -> dict[str, str]:
        return {r["name"]: r["role"] for r in self._q("SELECT name, role FROM users ORDER BY name")}

    def set_user(self, name: str, role: str, at: datetime) -> bool:
        rows = self._q(
            "INSERT INTO users VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE SET role = %s"
            " RETURNING (xmax = 0) AS new",
            (name, role, at, role),
        )
        return bool(rows[0]["new"])

    def log(self, entry: AuditEntry) -> None:
        self._x(
            'INSERT INTO audit (at, "user", command, object, detail) VALUES (%s, %s, %s, %s, %s)',
            (entry.at, entry.user, entry.command, entry.object, entry.detail),
        )

    def audit_log(self, *, limit: int = 100, since: datetime | None = None) -> list[AuditEntry]:
        rows = self._q(
            "SELECT * FROM audit WHERE %(since)s::timestamptz IS NULL OR at >= %(since)s"
            " ORDER BY at DESC, seq DESC LIMIT %(limit)s",
            {"since": since, "limit": limit},
        )
        return [
            AuditEntry(r["at"], r["user"], r["command"], r["object"], r["detail"]) for r in rows
        ]


def _filters(**given: Any) -> tuple[str, tuple[Any, ...]]:
    """`` WHERE a = %s AND …`` for the filters that are set, and their values."""
    used = {column: value for column, value in given.items() if value is not None}
    where = " AND ".join(f"{column} = %s" for column in used)
    return (f" WHERE {where}" if where else ""), tuple(used.values())


def participant(row: Mapping[str, Any]) -> ParticipantState:
    """A participant row back as engine state."""
    return ParticipantState.from_row(row)


def contact(row: Mapping[str, Any]) -> ContactRow:
    return ContactRow(row["cid"], row["data"], row["created_at"], row["updated_at"])


def message(r: Mapping[str, Any]) -> OutMessage:
    return OutMessage(
        id=r["id"],
        key=r["key"],
        flow=r["flow"],
        step=r["step"],
        cid=r["cid"],
        channel=r["channel"],
        content=r["content"],
        to=r["recipient"],
        payload=r["payload"],
        status=r["status"],
        attempts=r["attempts"],
        queued_at=r["queued_at"],
        sent_at=r["sent_at"],
        error=r["error"],
    )


def document_row(row: Mapping[str, Any]) -> StoredDocument:
    """A ``versions`` row back as a stored document."""
    return StoredDocument(
        kind=row["kind"],
        name=row["name"],
        version=row["version"],
        hash=row["hash"],
        source=row["source"],
        document=row["document"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        path=row["path"],
    )


def flow_row(row: Mapping[str, Any]) -> FlowRow:
    """A flow's head (with its document and counts) back as a :class:`FlowRow`."""
    meta = row["document"].get("metadata") or {}
    return FlowRow(
        name=row["name"],
        version=row["version"],
        state=row["state"],
        title=meta.get("title"),
        folder=meta.get("folder"),
        description=meta.get("description"),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        activated_at=row["activated_at"],
        shown_at=row["shown_at"],
        participants=int(row["participants"]),
        succeeded=int(row["succeeded"]),
    )
