"""Turning the engine's results into what a batch writes.

A :class:`~flowctl.engine.Result` becomes, in the same
:class:`~flowctl.store.records.Batch`: the participant row, its history,
the per-step and daily counters, the contact's changes, the emitted events
(stored as ordinary events, so flows trigger flows), CRM objects, and
messages rendered now (at queue time) into the outbox. ``start_flow`` and
``transfer_to`` become ``manual`` events aimed at the target flow, entered
on the next round like a manual enrollment. While :func:`tracking` is on,
e-mails get tracked links, an open pixel and unsubscribe headers
(:mod:`flowctl.http.tracking`) as they are rendered.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flowctl.engine import (
    FINAL_STATUSES,
    SUCCEEDED,
    WAITING,
    Effect,
    ParticipantState,
    Result,
)
from flowctl.engine.actions import template_variables
from flowctl.http.tokens import OPEN, Tracked
from flowctl.simulate.content import (
    ContentIndex,
    Unsendable,
    outgoing,
    render_deep,
    shown,
    unsent,
)
from flowctl.store.codec import counter_day
from flowctl.store.records import (
    FAILED,
    QUEUED,
    Batch,
    CrmObject,
    HistoryRow,
    NewEvent,
    NewMessage,
)

if TYPE_CHECKING:
    from flowctl.http.tracking import Tracker

CRM_KINDS = frozenset(
    {
        "create_activity",
        "create_sale",
        "create_appointment",
        "create_ticket",
        "notify",
        "enroll_course",
        "revoke_course",
    }
)
"""Actions that leave an object in the CRM (the rest change the contact or send)."""

ENTRY_REQUEST = "manual"
"""The event type of an entry not made by a trigger; ``data.flow`` names the flow."""

_tracker: Tracker | None = None
"""Rewrites e-mails as they are rendered; set by :func:`tracking` (``[http] base_url``)."""


@contextmanager
def tracking(tracker: Tracker | None) -> Iterator[None]:
    """Render e-mails through ``tracker`` while inside (None: as written, untracked)."""
    global _tracker
    previous, _tracker = _tracker, tracker
    try:
        yield
    finally:
        _tracker = previous


def absorb(
    batch: Batch,
    cid: int,
    before: ParticipantState | None,
    result: Result,
    content: ContentIndex,
    send_at: datetime | None = None,
) -> Mapping[str, str]:
    """Add one advance of a participant (new when ``before`` is None) to ``batch``;
    returns why each send that failed did, by step id.

    Counters count on the (UTC) day each thing happened in the flow's time. A
    participation that ends while waiting in a step counts for that step with
    its status as the outcome (``succeeded``, ``exited``).
    E-mails and SMS are not delivered before ``send_at`` when given.
    """
    state = result.state
    flow = state.flow
    if before is None:
        batch.count(batch.daily_counts, (flow, counter_day(state.entered_at), "entered"))
    if state.succeeded_at is not None and (before is None or before.succeeded_at is None):
        batch.count(batch.daily_counts, (flow, counter_day(state.succeeded_at), "succeeded"))
    ended = state.status in FINAL_STATUSES and (
        before is None or before.status not in FINAL_STATUSES
    )
    if ended and state.status != SUCCEEDED:  # a success is counted once, above
        batch.count(
            batch.daily_counts,
            (flow, counter_day(state.ended_at or state.entered_at), state.status),
        )
    if ended and before is not None and before.status == WAITING and state.step == before.step:
        # It left while in that step (success, exit_when, a removed step): the funnel
        # shows the step reached, with how the participation ended as its outcome.
        day = counter_day(state.ended_at or state.entered_at)
        batch.count(batch.step_counts, (flow, day, state.step or "-", state.status))
    first = len(batch.messages)
    if result.effects:
        variables = template_variables(state, result.contact, state.step_count)
        for effect in result.effects:
            _effect(batch, cid, state, effect, content, variables, send_at)
    # A message failed as it was made (its content missing, or not renderable for this
    # contact) was not sent: its step says so, and no email_sent / sms_sent is recorded.
    failed = {m.step: str(m.payload["error"]) for m in batch.messages[first:] if m.status == FAILED}
    result = unsent(result, failed)
    pid = state.id
    for entry in result.history:
        at, step, outcome = entry.at, entry.step, entry.outcome
        batch.history.append(
            HistoryRow(pid, flow, state.version, cid, at, step, entry.type, outcome, entry.detail)
        )
        batch.count(batch.step_counts, (flow, counter_day(at), step or "-", outcome))
    for event in result.emitted:
        batch.events.append(NewEvent(cid, event.type, event.at, dict(event.data)))
    return failed


def _effect(
    batch: Batch,
    cid: int,
    state: ParticipantState,
    effect: Effect,
    content: ContentIndex,
    variables: Mapping[str, Any],
    send_at: datetime | None,
) -> None:
    kind = effect.type
    if kind in ("send_email", "send_sms"):
        batch.messages.append(_message(cid, state, effect, content, variables, send_at))
    elif kind == "webhook":
        try:
            payload, status = outgoing(effect, content, variables), QUEUED
        except Unsendable as exc:  # not called with a broken body
            payload, status = {"error": str(exc)}, FAILED
        batch.messages.append(
            NewMessage(
                effect.key,
                state.flow,
                effect.step or "-",
                state.id,
                cid,
                "webhook",
                None,
                str(effect.params.get("url")),
                payload,
                status,
            )
        )
    elif kind in CRM_KINDS:  # a value that cannot render shows its error in place
        data = {k: render_deep(v, variables, shown) for k, v in effect.params.items()}
        batch.crm.append(
            CrmObject(effect.key, kind, cid, state.flow, effect.step or "-", data, effect.at)
        )
    elif kind in ("start_flow", "transfer"):
        target = str(effect.params.get("flow"))
        via = "start_flow" if kind == "start_flow" else "transfer_to"
        batch.events.append(
            NewEvent(
                cid,
                ENTRY_REQUEST,
                effect.at,
                {"flow": target, "via": via, "from": state.flow},
                id=f"{effect.key}:{via}",
            )
        )


def _message(
    cid: int,
    state: ParticipantState,
    effect: Effect,
    content: ContentIndex,
    variables: Mapping[str, Any],
    send_at: datetime | None,
) -> NewMessage:
    email = effect.type == "send_email"
    name = str(effect.params.get("mailing" if email else "sms"))
    to = variables["contact"].get("email" if email else "phone")
    address = None if to is None else str(to)
    channel = "email" if email else "sms"
    try:
        payload = outgoing(effect, content, variables)
    except Unsendable as exc:  # never delivered, the reason kept
        step, error = effect.step or "-", {"error": str(exc)}
        return NewMessage(
            effect.key, state.flow, step, state.id, cid, channel, name, address, error, FAILED
        )
    if email and _tracker is not None:
        mail = Tracked(OPEN, effect.key, cid, name, state.flow, effect.step or "-")
        links = content.mailings[name].get("tracking") is not False
        payload = _tracker.track(payload, mail, links=links)
    return NewMessage(
        effect.key,
        state.flow,
        effect.step or "-",
        state.id,
        cid,
        channel,
        name,
        address,
        payload,
        send_at=send_at,
    )
