"""The PostgreSQL side of :class:`~flowctl.store.runtime.RuntimeStore`: several daemons at once.

A mixin of :class:`~flowctl.store.postgres.PostgresStore`; it shares its
connection. Daemons coordinate through row locks, never by talking:

- **The contact is the unit of work.** Claiming a due participant or a
  pending event locks its row *and its contact's row* with ``FOR UPDATE
  SKIP LOCKED`` inside the batch transaction. Another daemon skips them
  (no waiting), so a contact's participations and events are handled by
  one daemon at a time, and each batch reads the contact's state after the
  previous holder committed. The contact comes first in each claim's
  ``FROM``: PostgreSQL locks in that order, so a row whose contact is taken
  is skipped before its own row is locked, and no stray lock holds it back
  from the daemon that has the contact. A daemon that dies (SIGKILL, lost
  network) loses its connection; the server rolls its batch back and the
  rows are free again at once.
- **Delivery holds a lease.** :meth:`claim_messages` commits ``sending``
  with ``next_at`` at the lease's end before anything is sent; a message
  whose lease ran out (its daemon died mid-send) is claimed again. Leases
  compare with the ``now`` the daemon passes, never the server's clock.
- **One row per idempotency key.** The outbox's ``key`` and the CRM
  objects' ``key`` are unique; inserts are ``ON CONFLICT DO NOTHING``.
- **Delivery records are not flushed one by one.** Claims and delivery
  outcomes commit with ``synchronous_commit = off`` (batches keep the
  server's durable default): a record lost in a server crash only means a
  message sent again, keyed, as after a daemon crash.
- **Counters last, in order.** A batch adds to the shared counter rows at
  its very end, in sorted key order, so two batches never wait on each
  other in a cycle, and each holds those hot rows only while it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from flowctl.engine.state import Event, ParticipantState
from flowctl.store.codec import contact_id, dumps, email_key, ts
from flowctl.store.postgres_schema import Conn
from flowctl.store.postgres_views import PostgresViews, contact, message, participant
from flowctl.store.records import (
    NO_ADDRESS,
    Attempt,
    Batch,
    ContactRow,
    HistoryRow,
    NewMessage,
    OutMessage,
    StoredEvent,
)

_CLAIM = " FOR UPDATE OF {} SKIP LOCKED"


class PostgresRuntime(PostgresViews):
    """Claims, batch commits and delivery over ``self._conn`` (provided by the store class)."""

    def transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - provided
        raise NotImplementedError

    # -- claiming ------------------------------------------------------------

    def pending_events(self, now: datetime, limit: int) -> list[StoredEvent]:
        rows = self._q(
            "SELECT e.* FROM contacts c JOIN events e USING (cid)"
            " WHERE e.processed_at IS NULL AND e.occurred_at <= %s ORDER BY e.seq LIMIT %s"
            + _CLAIM.format("c, e"),
            (now, limit),
        )
        if len(rows) < limit:  # events of no (longer existing) contact: claimed alone
            rows += self._q(
                "SELECT * FROM events e WHERE processed_at IS NULL AND occurred_at <= %s"
                " AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.cid = e.cid)"
                " ORDER BY seq LIMIT %s" + _CLAIM.format("e"),
                (now, limit - len(rows)),
            )
            rows.sort(key=lambda r: r["seq"])
        return [_event(r) for r in rows]

    def deferred_events(self, flow: str, limit: int) -> list[StoredEvent]:
        rows = self._q(
            "SELECT e.* FROM contacts c JOIN events e USING (cid) JOIN deferred d USING (seq)"
            " WHERE d.flow = %s ORDER BY d.seq LIMIT %s" + _CLAIM.format("c, d"),
            (flow, limit),
        )
        return [_event(r) for r in rows]

    def due_participants(
        self, now: datetime, flows: Iterable[str], limit: int
    ) -> list[tuple[int, ParticipantState]]:
        names = list(flows)
        if not names or limit <= 0:
            return []
        active = self._q(
            "SELECT p.* FROM contacts c JOIN participants p USING (cid)"
            " WHERE p.status = 'active' AND p.flow = ANY(%s) LIMIT %s" + _CLAIM.format("c, p"),
            (names, limit),
        )
        waiting = (
            self._q(
                "SELECT p.* FROM contacts c JOIN participants p USING (cid)"
                " WHERE p.status = 'waiting' AND p.due <= %s AND p.flow = ANY(%s)"
                " ORDER BY p.due LIMIT %s" + _CLAIM.format("c, p"),
                (now, names, limit - len(active)),
            )
            if len(active) < limit
            else []
        )
        return [(r["cid"], participant(r)) for r in (*active, *waiting)]

    def participations(self, cids: Iterable[int]) -> dict[int, list[ParticipantState]]:
        out: dict[int, list[ParticipantState]] = {}
        rows = self._q(
            "SELECT * FROM participants WHERE cid = ANY(%s) ORDER BY entered_at, id", (list(cids),)
        )
        for r in rows:
            out.setdefault(r["cid"], []).append(participant(r))
        return out

    def contacts_by_cid(self, cids: Iterable[int]) -> dict[int, ContactRow]:
        rows = self._q("SELECT * FROM contacts WHERE cid = ANY(%s)", (list(cids),))
        return {r["cid"]: contact(r) for r in rows}

    def contact_events(self, cids: Iterable[int], since: datetime) -> dict[int, list[Event]]:
        out: dict[int, list[Event]] = {}
        rows = self._q(
            "SELECT cid, id, type, occurred_at, data FROM events"
            " WHERE occurred_at >= %s AND cid = ANY(%s) ORDER BY occurred_at, seq",
            (since, list(cids)),
        )
        for r in rows:
            event = Event(r["type"], r["occurred_at"], r["data"], r["id"])
            out.setdefault(r["cid"], []).append(event)
        return out

    def sent_messages(self, cids: Iterable[int]) -> dict[int, list[tuple[str | None, datetime]]]:
        out: dict[int, list[tuple[str | None, datetime]]] = {}
        rows = self._q(
            "SELECT cid, content, queued_at FROM outbox WHERE channel IN ('email', 'sms')"
            " AND status NOT IN ('canceled', 'failed') AND cid = ANY(%s) ORDER BY cid, id",
            (list(cids),),
        )
        for r in rows:
            out.setdefault(r["cid"], []).append((r["content"], r["queued_at"]))
        return out

    def commit_batch(self, batch: Batch, at: datetime) -> None:
        with self.transaction():
            self._bulk(
                "INSERT INTO participants SELECT v.id, v.flow, v.version, v.cid, v.contact,"
                " v.status, v.step, v.due, v.entered_at, v.succeeded_at, v.ended_at, v.reason,"
                " v.data::json, NULL FROM {rows}",
                "id text, flow text, version int, cid bigint, contact text, " + STATE,
                [
                    (s.id, s.flow, s.version, cid, s.contact, *state_columns(s))
                    for cid, s in batch.entered
                ],
            )
            self.write_participants(batch.advanced)
            _write_history(self._conn, batch.history)
            self._bulk(
                "INSERT INTO outbox (key, flow, step, participant, cid, channel, content,"
                " recipient, payload, status, attempts, queued_at, next_at)"
                " SELECT v.key, v.flow, v.step, v.participant, v.cid, v.channel, v.content,"
                " v.recipient, v.payload::json, v.status, 0, %s, coalesce(v.send_at, %s)"
                " FROM {rows} ON CONFLICT (key) DO NOTHING",
                "key text, flow text, step text, participant text, cid bigint, channel text,"
                " content text, recipient text, payload text, status text,"
                " send_at timestamptz",
                [_outbox_row(m) for m in batch.messages],
                (at, at),
            )
            self._bulk(
                "UPDATE contacts c SET id = v.id, email = v.email, data = v.data::json,"
                " updated_at = %s FROM {rows} WHERE c.cid = v.cid",
                "cid bigint, id text, email text, data text",
                [
                    (cid, contact_id(data), email_key(data), dumps(data))
                    for cid, data in batch.contacts.items()
                ],
                (at,),
            )
            self._bulk(
                "INSERT INTO events (id, cid, type, occurred_at, received_at, data, processed_at)"
                " SELECT v.id, v.cid, v.type, v.occurred_at, %s, v.data::json,"
                " CASE WHEN v.handled THEN %s END FROM {rows} ON CONFLICT (id) DO NOTHING",
                "id text, cid bigint, type text, occurred_at timestamptz, data text, handled bool",
                [
                    (e.id, e.cid, e.type, e.occurred_at, dumps(e.data), e.handled)
                    for e in batch.events
                ],
                (at, at),
            )
            self._bulk(
                "INSERT INTO crm_objects (key, kind, cid, flow, step, data, created_at)"
                " SELECT v.key, v.kind, v.cid, v.flow, v.step, v.data::json, v.created_at"
                " FROM {rows} ON CONFLICT (key) DO NOTHING",
                "key text, kind text, cid bigint, flow text, step text, data text,"
                " created_at timestamptz",
                [
                    (o.key, o.kind, o.cid, o.flow, o.step, dumps(o.data), o.created_at)
                    for o in batch.crm
                ],
            )
            if batch.processed:
                self._x(
                    "UPDATE events SET processed_at = %s WHERE seq = ANY(%s)",
                    (at, batch.processed),
                )
            self._bulk(
                "INSERT INTO deferred SELECT v.flow, v.seq FROM {rows} ON CONFLICT DO NOTHING",
                "flow text, seq bigint",
                batch.deferred,
            )
            self._bulk(
                "DELETE FROM deferred d USING {rows} WHERE d.flow = v.flow AND d.seq = v.seq",
                "flow text, seq bigint",
                batch.released,
            )
            self._add_counts("daily_counts", ("flow", "day", "metric"), batch.daily_counts.items())
            self._add_counts(
                "step_counts", ("flow", "day", "step", "outcome"), batch.step_counts.items()
            )

    def write_participants(self, states: Sequence[ParticipantState]) -> None:
        """Write back existing participants, matched by id, in one statement."""
        self._bulk(
            "UPDATE participants p SET version = v.version, status = v.status, step = v.step,"
            " due = v.due, entered_at = v.entered_at, succeeded_at = v.succeeded_at,"
            " ended_at = v.ended_at, reason = v.reason, data = v.data::json"
            " FROM {rows} WHERE p.id = v.id",
            "id text, version int, " + STATE,
            [(s.id, s.version, *state_columns(s)) for s in states],
        )

    def _add_counts(
        self, table: str, key: tuple[str, ...], counts: Iterable[tuple[tuple[str, ...], int]]
    ) -> None:
        """Add to counter rows, in key order: batches take these hot rows in one order."""
        names = ", ".join(key)
        self._bulk(
            f"INSERT INTO {table} ({names}, n) SELECT * FROM {{rows}}"
            f" ON CONFLICT ({names}) DO UPDATE SET n = {table}.n + excluded.n",
            ", ".join(f"{k} text" for k in key) + ", n bigint",
            [(*k, n) for k, n in sorted(counts)],
        )

    # -- delivery --------------------------------------------------------------

    def claim_messages(self, now: datetime, limit: int, lease_until: datetime) -> list[OutMessage]:
        with self.transaction():
            self._bookkeeping()
            rows = self._q(
                "WITH claimed AS (SELECT o.* FROM outbox o"
                "   WHERE o.status IN ('queued', 'sending') AND o.next_at <= %(now)s"
                "   AND o.flow NOT IN (SELECT name FROM heads WHERE kind = 'Flow'"
                "     AND state = 'paused')"
                "   ORDER BY o.next_at, o.id LIMIT %(limit)s FOR UPDATE OF o SKIP LOCKED)"
                " UPDATE outbox SET status = 'sending', next_at = %(lease)s FROM claimed"
                " WHERE outbox.id = claimed.id RETURNING claimed.*",
                {"now": now, "limit": limit, "lease": lease_until},
            )
        rows.sort(key=lambda r: (r["next_at"], r["id"]))
        return [message(r) for r in rows]

    def keep_messages(self, channels: Sequence[str], now: datetime, limit: int) -> tuple[int, int]:
        with self.transaction():
            self._bookkeeping()
            rows = self._q(
                "WITH due AS (SELECT o.id FROM outbox o"
                "   WHERE o.status = 'queued' AND o.next_at <= %(now)s"
                "   AND o.channel = ANY(%(channels)s) AND o.flow NOT IN (SELECT name FROM heads"
                "     WHERE kind = 'Flow' AND state = 'paused')"
                "   ORDER BY o.next_at, o.id LIMIT %(limit)s FOR UPDATE OF o SKIP LOCKED)"
                " UPDATE outbox o SET attempts = o.attempts + 1, next_at = NULL,"
                " status = CASE WHEN coalesce(o.recipient, '') = '' THEN 'failed' ELSE 'sent' END,"
                " sent_at = CASE WHEN coalesce(o.recipient, '') = '' THEN o.sent_at"
                "   ELSE %(now)s END,"
                " error = CASE WHEN coalesce(o.recipient, '') = '' THEN %(reason)s END"
                " FROM due WHERE o.id = due.id RETURNING o.status",
                {"now": now, "channels": list(channels), "limit": limit, "reason": NO_ADDRESS},
            )
        sent = sum(1 for r in rows if r["status"] == "sent")
        return sent, len(rows) - sent

    def finish_messages(self, attempts: Sequence[Attempt], at: datetime) -> None:
        with self.transaction():
            self._bookkeeping()
            self._bulk(
                "UPDATE outbox o SET status = v.status, attempts = o.attempts + 1,"
                " error = v.error, sent_at = CASE WHEN v.status = 'sent' THEN %s"
                " ELSE o.sent_at END, next_at = v.next_at FROM {rows} WHERE o.id = v.id",
                "id bigint, status text, error text, next_at timestamptz",
                [(a.id, a.status, a.error, a.next_at) for a in attempts],
                (at,),
            )

    def _bookkeeping(self) -> None:
        """Commit this delivery record without waiting for the disk (alone, not in a batch).

        Delivery is at least once by design: a record lost in a server crash means the
        message is claimed and sent again, keyed, as after a daemon's crash. Waiting for a
        flush per message would make one daemon deliver only a few hundred a second.
        """
        if self._depth == 1:
            self._x("SET LOCAL synchronous_commit = off")

    def cancel_messages(self, flow: str, at: datetime) -> int:
        return self._x(
            "UPDATE outbox SET status = 'canceled', next_at = NULL, error = %s"
            " WHERE flow = %s AND status = 'queued'",
            (f"canceled at {ts(at)}", flow),
        )

    # -- housekeeping --------------------------------------------------------

    def purge(self, history_before: Mapping[str, datetime], events_before: datetime) -> int:
        with self.transaction():
            gone = 0
            for flow, cutoff in history_before.items():
                gone += self._x("DELETE FROM history WHERE flow = %s AND at < %s", (flow, cutoff))
            gone += self._x(
                "DELETE FROM events e WHERE processed_at IS NOT NULL AND occurred_at < %s"
                " AND NOT EXISTS (SELECT 1 FROM deferred d WHERE d.seq = e.seq)",
                (events_before,),
            )
        return gone


def _write_history(conn: Conn, rows: Sequence[HistoryRow]) -> None:
    """Step history by ``COPY``: the largest part of what a batch writes."""
    if not rows:
        return
    with (
        conn.cursor() as cur,
        cur.copy(
            b"COPY history (participant, flow, version, cid, at, step, type, outcome, detail)"
            b" FROM STDIN"
        ) as copy,
    ):
        for h in rows:
            copy.write_row(
                (h.participant, h.flow, h.version, h.cid, h.at, h.step, h.type, h.outcome, h.detail)
            )


STATE = (
    "status text, step text, due timestamptz, entered_at timestamptz,"
    " succeeded_at timestamptz, ended_at timestamptz, reason text, data text"
)
"""The columns of :func:`state_columns`, for :meth:`~PostgresViews._bulk`."""


def state_columns(s: ParticipantState) -> tuple[Any, ...]:
    """Columns status … data of a participant row."""
    return (
        s.status,
        s.step,
        s.due,
        s.entered_at,
        s.succeeded_at,
        s.ended_at,
        s.reason,
        dumps(s.blob()),
    )


def _event(r: Mapping[str, Any]) -> StoredEvent:
    return StoredEvent(r["seq"], r["cid"], r["type"], r["occurred_at"], r["data"], r["id"])


def _outbox_row(m: NewMessage) -> tuple[Any, ...]:
    payload = dumps(m.payload)
    return (
        m.key,
        m.flow,
        m.step,
        m.participant,
        m.cid,
        m.channel,
        m.content,
        m.to,
        payload,
        m.status,
        m.send_at,
    )
