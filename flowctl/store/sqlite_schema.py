"""The SQLite store's layout and its migrations.

The layout version lives in the ``meta`` table. Opening a store applies
every migration above that version, in one transaction each, so a file made
by an older flowctl is upgraded in place. A file from a newer flowctl is
refused rather than misread.

Instants are UTC text of fixed width (``2026-11-22T08:00:00.000000+00:00``),
so text order is time order and the due-time index serves range scans.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

Migration = Callable[[Database], None]


def _v1(db: Database) -> None:
    """Documents with versions, flow state, contacts, events, participants, users, audit."""
    db.table("versions").create(
        {
            "kind": str,
            "name": str,
            "version": int,
            "hash": str,
            "source": str,
            "document": str,
            "path": str,
            "created_at": str,
            "created_by": str,
        },
        pk=("kind", "name", "version"),
        not_null={"hash", "source", "document", "created_at", "created_by"},
    )
    db.table("heads").create(
        {
            "kind": str,
            "name": str,
            "version": int,
            "state": str,
            "created_at": str,
            "updated_at": str,
            "shown_at": str,
        },
        pk=("kind", "name"),
        not_null={"version", "created_at", "updated_at"},
    )
    db.table("activations").create(
        {"flow": str, "started_at": str, "ended_at": str}, not_null={"flow", "started_at"}
    )
    db.table("activations").create_index(["flow", "started_at"])
    db.table("contacts").create(
        {"cid": int, "id": str, "email": str, "data": str, "created_at": str, "updated_at": str},
        pk="cid",
        not_null={"data", "created_at", "updated_at"},
    )
    db.table("contacts").create_index(["id"], unique=True)
    db.table("contacts").create_index(["email"], unique=True)
    db.table("events").create(
        {
            "seq": int,
            "id": str,
            "cid": int,
            "type": str,
            "occurred_at": str,
            "received_at": str,
            "data": str,
            "processed_at": str,
        },
        pk="seq",
        not_null={"cid", "type", "occurred_at", "received_at", "data"},
    )
    db.table("events").create_index(["id"], unique=True)
    db.table("events").create_index(["cid", "occurred_at"])
    db.execute("CREATE INDEX events_pending ON events (seq) WHERE processed_at IS NULL")
    db.table("participants").create(
        {
            "id": str,
            "flow": str,
            "version": int,
            "cid": int,
            "contact": str,
            "status": str,
            "step": str,
            "due": str,
            "entered_at": str,
            "succeeded_at": str,
            "ended_at": str,
            "reason": str,
            "data": str,
            "lease_until": str,
        },
        pk="id",
        not_null={"flow", "version", "cid", "contact", "status", "entered_at", "data"},
    )
    db.table("participants").create_index(["flow", "status", "step"])
    db.execute(
        "CREATE INDEX participants_succeeded ON participants (flow) WHERE succeeded_at IS NOT NULL"
    )
    db.table("participants").create_index(["cid", "flow"])
    db.execute("CREATE INDEX participants_due ON participants (due) WHERE status = 'waiting'")
    db.table("users").create({"name": str, "role": str, "created_at": str}, pk="name")
    db.table("audit").create(
        {"seq": int, "at": str, "user": str, "command": str, "object": str, "detail": str},
        pk="seq",
        not_null={"at", "user", "command", "object"},
    )
    db.table("audit").create_index(["at"])


def _v2(db: Database) -> None:
    """What the daemon writes: step history, counters, the outbox, CRM objects, held events."""
    db.table("history").create(
        {
            "seq": int,
            "participant": str,
            "flow": str,
            "version": int,
            "cid": int,
            "at": str,
            "step": str,
            "type": str,
            "outcome": str,
            "detail": str,
        },
        pk="seq",
        not_null={"participant", "flow", "version", "cid", "at", "type", "outcome"},
    )
    db.table("history").create_index(["flow", "at"])
    db.table("history").create_index(["cid", "at"])
    db.table("history").create_index(["at"])
    db.table("step_counts").create(
        {"flow": str, "day": str, "step": str, "outcome": str, "n": int},
        pk=("flow", "day", "step", "outcome"),
        not_null={"n"},
    )
    db.table("daily_counts").create(
        {"flow": str, "day": str, "metric": str, "n": int},
        pk=("flow", "day", "metric"),
        not_null={"n"},
    )
    db.table("outbox").create(
        {
            "id": int,
            "key": str,
            "flow": str,
            "step": str,
            "participant": str,
            "cid": int,
            "channel": str,
            "content": str,
            "recipient": str,
            "payload": str,
            "status": str,
            "attempts": int,
            "queued_at": str,
            "next_at": str,
            "sent_at": str,
            "error": str,
        },
        pk="id",
        not_null={"key", "flow", "cid", "channel", "payload", "status", "attempts", "queued_at"},
    )
    db.table("outbox").create_index(["key"], unique=True)
    db.table("outbox").create_index(["flow", "status"])
    db.table("outbox").create_index(["cid"])
    db.table("outbox").create_index(["participant"])
    db.execute(
        "CREATE INDEX outbox_pending ON outbox (next_at) WHERE status IN ('queued', 'sending')"
    )
    db.table("crm_objects").create(
        {
            "id": int,
            "key": str,
            "kind": str,
            "cid": int,
            "flow": str,
            "step": str,
            "data": str,
            "created_at": str,
        },
        pk="id",
        not_null={"key", "kind", "cid", "data", "created_at"},
    )
    db.table("crm_objects").create_index(["key"], unique=True)
    db.table("crm_objects").create_index(["cid"])
    db.table("deferred").create({"flow": str, "seq": int}, pk=("flow", "seq"))


def _v3(db: Database) -> None:
    """Pauses: what a pause held runs as of its end, also when no daemon ran during it."""
    db.table("pauses").create(
        {"flow": str, "started_at": str, "ended_at": str}, not_null={"flow", "started_at"}
    )
    db.table("pauses").create_index(["flow", "started_at"])
    # A flow paused now was paused when its head last changed.
    db.execute(
        "INSERT INTO pauses (flow, started_at) SELECT name, updated_at FROM heads"
        " WHERE kind = 'Flow' AND state = 'paused'"
    )


MIGRATIONS: tuple[Migration, ...] = (_v1, _v2, _v3)
"""Migration ``i`` brings a store from layout ``i`` to ``i + 1``."""

LATEST = len(MIGRATIONS)
