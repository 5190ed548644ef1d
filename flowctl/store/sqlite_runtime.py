"""The SQLite side of :class:`~flowctl.store.runtime.RuntimeStore`.

A mixin of :class:`~flowctl.store.sqlite.SqliteStore`; it shares its
connection. SQLite has one writer at a time, so a batch claimed and
committed inside one ``BEGIN IMMEDIATE`` transaction needs no row leases.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any

from flowctl.engine.state import Event, ParticipantState
from flowctl.store.base import iter_batches
from flowctl.store.codec import (
    CONTACT_COLUMNS,
    contact_id,
    contact_row,
    day_bounds,
    dumps,
    email_key,
    instant,
    instant_or_none,
    loads,
    participant,
    ts,
    ts_or_none,
)
from flowctl.store.records import (
    NO_ADDRESS,
    Attempt,
    Batch,
    ContactRow,
    HistoryRow,
    OutMessage,
    StoredEvent,
)

_IN = 500
_LIVE_FLOW_STATES = ("active", "deactivated")


class SqliteRuntime:
    """Daemon verbs over ``self._conn`` (provided by the store class)."""

    _conn: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - provided
        raise NotImplementedError

    def _q(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError  # pragma: no cover - provided

    def contacts_by_cid(self, cids: Iterable[int]) -> dict[int, ContactRow]:
        rows = self._in(f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE cid", cids)
        return {r[0]: contact_row(r) for r in rows}

    # -- claiming ------------------------------------------------------------

    def pending_events(self, now: datetime, limit: int) -> list[StoredEvent]:
        rows = self._q(
            "SELECT * FROM events WHERE processed_at IS NULL AND occurred_at <= ?"
            " ORDER BY seq LIMIT ?",
            (ts(now), limit),
        )
        return [_event(r) for r in rows]

    def deferred_events(self, flow: str, limit: int) -> list[StoredEvent]:
        rows = self._q(
            "SELECT e.* FROM deferred d JOIN events e USING (seq) WHERE d.flow = ?"
            " ORDER BY seq LIMIT ?",
            (flow, limit),
        )
        return [_event(r) for r in rows]

    def due_participants(
        self, now: datetime, flows: Iterable[str], limit: int
    ) -> list[tuple[int, ParticipantState]]:
        names = list(flows)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        active = self._q(
            f"SELECT * FROM participants WHERE status = 'active' AND flow IN ({marks}) LIMIT ?",
            (*names, limit),
        )
        waiting = self._q(
            # The partial due index, never the (flow, status) one: with a million
            # waiting rows that one makes SQLite sort them all.
            f"SELECT * FROM participants INDEXED BY participants_due WHERE status = 'waiting'"
            f" AND due <= ? AND flow IN ({marks}) ORDER BY due LIMIT ?",
            (ts(now), *names, limit - len(active)),
        )
        return [(r["cid"], participant(r)) for r in (*active, *waiting)]

    def participations(self, cids: Iterable[int]) -> dict[int, list[ParticipantState]]:
        out: dict[int, list[ParticipantState]] = {}
        for r in self._in("SELECT * FROM participants WHERE cid", cids, " ORDER BY entered_at"):
            out.setdefault(r["cid"], []).append(participant(r))
        return out

    def contact_events(self, cids: Iterable[int], since: datetime) -> dict[int, list[Event]]:
        out: dict[int, list[Event]] = {}
        rows = self._in(
            "SELECT cid, id, type, occurred_at, data FROM events WHERE occurred_at >= ? AND cid",
            cids,
            " ORDER BY occurred_at, seq",
            (ts(since),),
        )
        for r in rows:
            event = Event(r["type"], instant(r["occurred_at"]), loads(r["data"]), r["id"])
            out.setdefault(r["cid"], []).append(event)
        return out

    def sent_messages(self, cids: Iterable[int]) -> dict[int, list[tuple[str | None, datetime]]]:
        out: dict[int, list[tuple[str | None, datetime]]] = {}
        rows = self._in(
            "SELECT cid, content, queued_at FROM outbox WHERE channel IN ('email', 'sms')"
            " AND status NOT IN ('canceled', 'failed') AND cid",
            cids,
        )
        for r in rows:
            out.setdefault(r["cid"], []).append((r["content"], instant(r["queued_at"])))
        return out

    def commit_batch(self, batch: Batch, at: datetime) -> None:
        now = ts(at)
        c = self._conn
        with self.transaction():
            c.executemany(
                "INSERT INTO participants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [(s.id, s.flow, s.version, cid, s.contact, *_state(s)) for cid, s in batch.entered],
            )
            c.executemany(
                "UPDATE participants SET version = ?, status = ?, step = ?, due = ?,"
                " entered_at = ?, succeeded_at = ?, ended_at = ?, reason = ?, data = ?"
                " WHERE id = ?",
                [(s.version, *_state(s), s.id) for s in batch.advanced],
            )
            c.executemany(
                "INSERT INTO history (participant, flow, version, cid, at, step, type, outcome,"
                " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        h.participant,
                        h.flow,
                        h.version,
                        h.cid,
                        ts(h.at),
                        h.step,
                        h.type,
                        h.outcome,
                        h.detail,
                    )
                    for h in batch.history
                ],
            )
            c.executemany(
                "INSERT INTO step_counts VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT DO UPDATE SET n = n + excluded.n",
                [(*key, n) for key, n in batch.step_counts.items()],
            )
            c.executemany(
                "INSERT INTO daily_counts VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO UPDATE SET n = n + excluded.n",
                [(*key, n) for key, n in batch.daily_counts.items()],
            )
            c.executemany(
                "INSERT OR IGNORE INTO outbox (key, flow, step, participant, cid, channel, content,"
                " recipient, payload, status, attempts, queued_at, next_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                [
                    (
                        m.key,
                        m.flow,
                        m.step,
                        m.participant,
                        m.cid,
                        m.channel,
                        m.content,
                        m.to,
                        dumps(m.payload),
                        m.status,
                        now,
                        ts(m.send_at) if m.send_at else now,
                    )
                    for m in batch.messages
                ],
            )
            c.executemany(
                "UPDATE contacts SET id = ?, email = ?, data = ?, updated_at = ? WHERE cid = ?",
                [
                    (contact_id(data), email_key(data), dumps(data), now, cid)
                    for cid, data in batch.contacts.items()
                ],
            )
            c.executemany(
                "INSERT OR IGNORE INTO events (id, cid, type, occurred_at, received_at, data,"
                " processed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.id,
                        e.cid,
                        e.type,
                        ts(e.occurred_at),
                        now,
                        dumps(e.data),
                        now if e.handled else None,
                    )
                    for e in batch.events
                ],
            )
            c.executemany(
                "INSERT OR IGNORE INTO crm_objects (key, kind, cid, flow, step, data, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (o.key, o.kind, o.cid, o.flow, o.step, dumps(o.data), ts(o.created_at))
                    for o in batch.crm
                ],
            )
            c.executemany(
                "UPDATE events SET processed_at = ? WHERE seq = ?",
                [(now, seq) for seq in batch.processed],
            )
            c.executemany("INSERT OR IGNORE INTO deferred VALUES (?, ?)", batch.deferred)
            c.executemany("DELETE FROM deferred WHERE flow = ? AND seq = ?", batch.released)

    # -- delivery --------------------------------------------------------------

    def claim_messages(self, now: datetime, limit: int, lease_until: datetime) -> list[OutMessage]:
        with self.transaction():
            rows = self._q(
                "SELECT * FROM outbox WHERE status IN ('queued', 'sending') AND next_at <= ?"
                " AND flow NOT IN (SELECT name FROM heads WHERE kind = 'Flow' AND state = 'paused')"
                " ORDER BY next_at, id LIMIT ?",
                (ts(now), limit),
            )
            self._conn.executemany(
                "UPDATE outbox SET status = 'sending', next_at = ? WHERE id = ?",
                [(ts(lease_until), r["id"]) for r in rows],
            )
        return [_message(r) for r in rows]

    def keep_messages(self, channels: Sequence[str], now: datetime, limit: int) -> tuple[int, int]:
        with self.transaction():
            rows = self._conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = NULL,"
                " status = CASE WHEN coalesce(recipient, '') = '' THEN 'failed' ELSE 'sent' END,"
                " sent_at = CASE WHEN coalesce(recipient, '') = '' THEN sent_at ELSE ?1 END,"
                " error = CASE WHEN coalesce(recipient, '') = '' THEN ?2 END"
                " WHERE id IN (SELECT id FROM outbox WHERE status IN ('queued', 'sending')"
                " AND status = 'queued' AND next_at <= ?1"
                " AND channel IN (SELECT value FROM json_each(?3))"
                " AND flow NOT IN (SELECT name FROM heads WHERE kind = 'Flow' AND state = 'paused')"
                " ORDER BY next_at, id LIMIT ?4) RETURNING status",
                (ts(now), NO_ADDRESS, json.dumps(list(channels)), limit),
            ).fetchall()
        sent = sum(1 for r in rows if r[0] == "sent")
        return sent, len(rows) - sent

    def finish_messages(self, attempts: Sequence[Attempt], at: datetime) -> None:
        sent = ts(at)
        with self.transaction():
            self._conn.executemany(
                "UPDATE outbox SET status = ?, attempts = attempts + 1, error = ?,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, next_at = ?"
                " WHERE id = ?",
                [
                    (a.status, a.error, a.status, sent, ts_or_none(a.next_at), a.id)
                    for a in attempts
                ],
            )

    def cancel_messages(self, flow: str, at: datetime) -> int:
        with self.transaction():
            return self._conn.execute(
                "UPDATE outbox SET status = 'canceled', next_at = NULL, error = ?"
                " WHERE flow = ? AND status = 'queued'",
                (f"canceled at {ts(at)}", flow),
            ).rowcount

    # -- views -------------------------------------------------------------------

    def messages(
        self, *, flow: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[OutMessage]:
        rows = self._q(
            "SELECT * FROM outbox WHERE (? IS NULL OR flow = ?) AND (? IS NULL OR status = ?)"
            " ORDER BY id DESC LIMIT ?",
            (flow, flow, status, status, limit),
        )
        return [_message(r) for r in rows]

    def participant_rows(
        self, flow: str, *, status: str | None = None, limit: int = 10_000
    ) -> list[Mapping[str, Any]]:
        rows = self._q(
            "SELECT p.*, c.data AS contact_data,"
            " (SELECT json_array(content, queued_at, status) FROM outbox o"
            "   WHERE o.participant = p.id AND o.channel = 'email' ORDER BY o.id DESC LIMIT 1)"
            "   AS last_mail"
            " FROM participants p JOIN contacts c USING (cid)"
            " WHERE p.flow = ? AND (? IS NULL OR p.status = ?)"
            " ORDER BY p.entered_at DESC LIMIT ?",
            (flow, status, status, limit),
        )
        out: list[Mapping[str, Any]] = []
        for r in rows:
            last = loads(r["last_mail"]) if r["last_mail"] else [None, None, None]
            out.append(
                {
                    "state": participant(r),
                    "contact": loads(r["contact_data"]),
                    "last_mailing": last[0],
                    "last_mailing_date": instant_or_none(last[1]),
                    "last_mailing_status": last[2],
                }
            )
        return out

    def live_step_counts(self, flow: str) -> dict[str, int]:
        rows = self._q(
            "SELECT step, count(*) FROM participants WHERE flow = ?"
            " AND status IN ('active', 'waiting') AND step IS NOT NULL GROUP BY step",
            (flow,),
        )
        return {r[0]: r[1] for r in rows}

    def history(
        self, *, cid: int | None = None, flow: str | None = None, limit: int = 1000
    ) -> list[HistoryRow]:
        rows = self._q(
            "SELECT * FROM history WHERE (? IS NULL OR cid = ?) AND (? IS NULL OR flow = ?)"
            " ORDER BY at DESC, seq DESC LIMIT ?",
            (cid, cid, flow, flow, limit),
        )
        return [
            HistoryRow(
                r["participant"],
                r["flow"],
                r["version"],
                r["cid"],
                instant(r["at"]),
                r["step"],
                r["type"],
                r["outcome"],
                r["detail"],
            )
            for r in rows
        ]

    def step_counts(
        self, flow: str, *, since: date | None = None, until: date | None = None
    ) -> dict[tuple[str, str], int]:
        rows = self._q(
            "SELECT step, outcome, sum(n) FROM step_counts WHERE flow = ? AND day >= ?"
            " AND day <= ? GROUP BY step, outcome",
            (flow, since.isoformat() if since else "", until.isoformat() if until else "9999"),
        )
        return {(r[0], r[1]): r[2] for r in rows}

    def daily_counts(self, flow: str) -> dict[tuple[str, str], int]:
        rows = self._q("SELECT day, metric, n FROM daily_counts WHERE flow = ?", (flow,))
        return {(r[0], r[1]): r[2] for r in rows}

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
            "SELECT content, status, count(*) FROM outbox WHERE flow = ? AND content IS NOT NULL"
            " AND (? IS NULL OR channel = ?) AND queued_at >= ? AND queued_at < ?"
            f" AND queued_at >= {_SINCE_CREATED} GROUP BY content, status",
            (flow, channel, channel, ts(start), ts(end), flow),
        )
        out: dict[str, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r[0], {})[r[1]] = r[2]
        return out

    def crm_objects(self, cid: int) -> list[Mapping[str, Any]]:
        rows = self._q("SELECT * FROM crm_objects WHERE cid = ? ORDER BY id", (cid,))
        return [
            {
                "kind": r["kind"],
                "flow": r["flow"],
                "step": r["step"],
                "data": loads(r["data"]),
                "created_at": instant(r["created_at"]),
            }
            for r in rows
        ]

    def purge(self, history_before: Mapping[str, datetime], events_before: datetime) -> int:
        with self.transaction():
            gone = 0
            for flow, cutoff in history_before.items():
                gone += self._conn.execute(
                    "DELETE FROM history WHERE flow = ? AND at < ?", (flow, ts(cutoff))
                ).rowcount
            gone += self._conn.execute(
                "DELETE FROM events WHERE processed_at IS NOT NULL AND occurred_at < ?"
                " AND seq NOT IN (SELECT seq FROM deferred)"
                " AND cid NOT IN (SELECT cid FROM participants"
                "   WHERE status IN ('active', 'waiting'))",
                (ts(events_before),),
            ).rowcount
        return gone

    def _in(
        self, head: str, values: Iterable[Any], tail: str = "", params: Sequence[Any] = ()
    ) -> list[sqlite3.Row]:
        rows: list[sqlite3.Row] = []
        for batch in iter_batches(dict.fromkeys(values), _IN):
            marks = ",".join("?" * len(batch))
            rows.extend(self._q(f"{head} IN ({marks}){tail}", (*params, *batch)))
        return rows


def _state(s: ParticipantState) -> tuple[Any, ...]:
    """Columns status … data of a participant row."""
    return (
        s.status,
        s.step,
        ts_or_none(s.due),
        ts(s.entered_at),
        ts_or_none(s.succeeded_at),
        ts_or_none(s.ended_at),
        s.reason,
        dumps(s.blob()),
    )


def _event(r: sqlite3.Row) -> StoredEvent:
    return StoredEvent(
        r["seq"], r["cid"], r["type"], instant(r["occurred_at"]), loads(r["data"]), r["id"]
    )


def _message(r: sqlite3.Row) -> OutMessage:
    return OutMessage(
        id=r["id"],
        key=r["key"],
        flow=r["flow"],
        step=r["step"],
        cid=r["cid"],
        channel=r["channel"],
        content=r["content"],
        to=r["recipient"],
        payload=loads(r["payload"]),
        status=r["status"],
        attempts=r["attempts"],
        queued_at=instant(r["queued_at"]),
        sent_at=instant_or_none(r["sent_at"]),
        error=r["error"],
    )


_SINCE_CREATED = "coalesce((SELECT created_at FROM heads WHERE kind = 'Flow' AND name = ?), '')"
"""When the flow was created: a flow deleted and applied again has none of the
earlier one's messages (they stay in the outbox, under the name)."""
