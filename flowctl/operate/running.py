"""What the daemon did, as data for people and scripts; and manual enrollment.

Shapes follow the CLI spec's JSON keys (``participants``, ``messages``);
instants are ISO 8601 with an offset.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from flowctl.daemon.effects import ENTRY_REQUEST
from flowctl.engine import ACTIVE as RUNNING
from flowctl.engine import WAITING, Event, compile_flow, consider_entry, contact_key
from flowctl.errors import Refused
from flowctl.operate import rights
from flowctl.operate.intake import find_contact
from flowctl.operate.lookup import require_flow
from flowctl.store import ACTIVE, FLOW, PAUSED, NewEvent, Store
from flowctl.timeutil import isoformat


def enroll(store: Store, flow: str, ref: str, *, now: datetime) -> dict[str, Any]:
    """Enter a contact into a flow by hand, now (the flow's filter and reentry apply).

    The entry is checked at once, so the answer says whether the contact
    is admitted and, if not, why (``already_active``, ``reentry``,
    ``reentry_after``, ``filter``). An admitted contact is recorded as a
    ``manual`` event aimed at the flow; the daemon's next tick enters it
    and runs its first steps, or the first after the resume of a paused flow
    (``held`` says so).
    """
    who = rights.authorize(store, rights.LIFECYCLE)
    row = require_flow(store, flow)
    contact = find_contact(store, ref)
    if row.state not in (ACTIVE, PAUSED):
        raise Refused(f"flow/{flow} is {row.state}", hint=f"flowctl activate {flow} first")
    doc = store.document(FLOW, flow)
    assert doc is not None
    program = compile_flow(doc.document, doc.version)
    prior = [p for p in store.participations([contact.cid]).get(contact.cid, []) if p.flow == flow]
    event = Event(ENTRY_REQUEST, now, {"flow": flow, "via": "enroll"})
    decision = consider_entry(program, event, contact.data, now, prior=prior, direct=True)
    if not decision.entered:
        return {
            "flow": flow,
            "contact": ref,
            "entered": False,
            "reason": decision.reason,
            "held": False,
        }
    with store.transaction():
        stored = NewEvent(
            contact.cid, event.type, now, dict(event.data), f"enroll:{flow}:{ref}:{now}"
        )
        store.add_events([stored], now)
        rights.audit(store, who, "enroll", f"flow/{flow}", now, ref)
    held = row.state == PAUSED
    return {"flow": flow, "contact": ref, "entered": True, "reason": None, "held": held}


PARTICIPANT_ROWS = 10_000
"""The most rows ``flowctl participants`` shows (the newest)."""


def participant_list(
    store: Store, flow: str, status: str | None = None, *, now: datetime
) -> list[dict[str, Any]]:
    """The spec's participant rows for ``flowctl participants``.

    A participant whose wait has ended by ``now`` but whom the daemon has not
    moved on yet shows as ``active`` (spec §8: running or due), unless a pause
    holds the flow.
    """
    rights.authorize(store, rights.VIEW)
    held = require_flow(store, flow).state == PAUSED
    if status in (RUNNING, WAITING):
        rows = [*store.participant_rows(flow, status=RUNNING)]
        rows += store.participant_rows(flow, status=WAITING)
        rows.sort(key=lambda r: r["state"].entered_at, reverse=True)  # newest first, as one
        rows = rows[:PARTICIPANT_ROWS]
    else:
        rows = store.participant_rows(flow, status=status)
    out = []
    for row in rows:
        state = row["state"]
        contact = row["contact"]
        due = state.status == WAITING and not held and state.due is not None and state.due <= now
        shown = RUNNING if due else state.status
        if status is not None and shown != status:
            continue
        out.append(
            {
                "contact": state.contact,
                "email": contact.get("email"),
                "company": contact.get("company"),
                "registered": isoformat(state.entered_at),
                "status": shown,
                "current_step": state.step,
                "reason": state.reason,
                "last_mailing": row["last_mailing"],
                "last_mailing_date": _iso(row["last_mailing_date"]),
                "last_mailing_status": row["last_mailing_status"],
                "succeeded": state.succeeded_at is not None,
            }
        )
    return out


def history_list(
    store: Store, *, contact: str | None = None, flow: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """The step log of a contact or a flow, newest first."""
    rights.authorize(store, rights.VIEW)
    cid = find_contact(store, contact).cid if contact else None
    if flow:
        require_flow(store, flow)
    return [
        {
            "at": isoformat(h.at),
            "flow": h.flow,
            "version": h.version,
            "contact": h.participant.split("/")[1] if "/" in h.participant else h.cid,
            "participant": h.participant,
            "step": h.step,
            "type": h.type,
            "outcome": h.outcome,
            "detail": h.detail,
        }
        for h in store.history(cid=cid, flow=flow, limit=limit)
    ]


def message_list(
    store: Store, *, flow: str | None = None, status: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """The outbox rows with the spec's keys, newest first, with ``opened`` and
    ``clicked``: how often the tracked e-mail was opened and its links clicked
    (from the contact's events, so within the retention period)."""
    rights.authorize(store, rights.VIEW)
    messages = store.messages(flow=flow, status=status, limit=limit)
    if flow and not messages:  # a deleted flow's messages are still listed
        require_flow(store, flow)
    engaged = _engagement(store, {m.cid for m in messages if m.channel == "email"})
    contacts = store.contacts_by_cid({m.cid for m in messages})
    return [
        {
            "id": m.id,
            "flow": m.flow,
            "step": m.step,
            "contact": contact_key(contacts[m.cid].data) if m.cid in contacts else m.to,
            "to": m.to,
            "channel": m.channel,
            "content": m.content,
            "status": m.status,
            "message_id": message_id(m.key) if m.channel == "email" else m.key,
            "key": m.key,
            "queued_at": isoformat(m.queued_at),
            "sent_at": _iso(m.sent_at),
            "attempts": m.attempts,
            "error": m.error or m.payload.get("error"),  # else not sent: why
            "subject": m.payload.get("subject"),
            "opened": engaged.get((m.key, "email_opened"), 0),
            "clicked": engaged.get((m.key, "email_link_clicked"), 0),
        }
        for m in messages
    ]


def mailing_totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per mailing among message rows: ``sent``, ``opened`` and ``clicked`` (messages
    opened or clicked at least once)."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["channel"] != "email" or not row["content"]:
            continue
        entry = totals.setdefault(row["content"], {"sent": 0, "opened": 0, "clicked": 0})
        entry["sent"] += row["status"] == "sent"
        entry["opened"] += row["opened"] > 0
        entry["clicked"] += row["clicked"] > 0
    return totals


def _engagement(store: Store, cids: set[int]) -> Counter[tuple[str, str]]:
    """Opens and clicks per (message key, event type), from tracked events."""
    counts: Counter[tuple[str, str]] = Counter()
    for cid in cids:
        for event in store.events_for(cid):
            key = (event.get("data") or {}).get("message")
            if event["type"] in ("email_opened", "email_link_clicked") and key:
                counts[(str(key), event["type"])] += 1
    return counts


def message_id(key: str) -> str:
    """The e-mail Message-ID made from an idempotency key."""
    from flowctl.channels.smtp import message_id as smtp_message_id

    return smtp_message_id(key)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else isoformat(moment)
