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
from flowctl.engine.state import Renderer
from flowctl.http.tokens import OPEN, Tracked
from flowctl.simulate.content import ContentIndex, shown
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
from flowctl.templating import TemplateFailure, render

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

SENDING_STEPS = frozenset({"send_email", "send_sms", "webhook"})
"""Steps whose effect is a message in the outbox."""
SENT_EVENTS = frozenset({"email_sent", "sms_sent"})
"""What those steps emit (``data.step`` names the step)."""

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
    last: ParticipantState | None = None,
) -> None:
    """Add one advance of a participant (new when ``before`` is None) to ``batch``.

    Counters count on the (UTC) day each thing happened in the flow's time. A
    participation that ends while waiting in a step counts for that step with
    its status as the outcome (``succeeded``, ``exited``): ``last`` is the state
    the last of the engine's advances started from, when ``result`` joins
    several (a catch-up), else ``before``.
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
    start = last or before
    if ended and start is not None and start.status == WAITING and state.step == start.step:
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
    failed = {m.step: m.payload.get("error") for m in batch.messages[first:] if m.status == FAILED}
    pid = state.id
    for entry in result.history:
        outcome, detail = entry.outcome, entry.detail
        if entry.step in failed and entry.type in SENDING_STEPS:
            outcome, detail = FAILED, failed[entry.step]
        batch.history.append(
            HistoryRow(
                pid, flow, state.version, cid, entry.at, entry.step, entry.type, outcome, detail
            )
        )
        batch.count(batch.step_counts, (flow, counter_day(entry.at), entry.step or "-", outcome))
    for event in result.emitted:
        if event.type in SENT_EVENTS and event.data.get("step") in failed:
            continue
        batch.events.append(NewEvent(cid, event.type, event.at, dict(event.data)))


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
        params = effect.params
        try:
            body = _render_deep(params.get("body"), variables, render)
            payload = {
                "method": params.get("method", "POST"),
                "headers": dict(params.get("headers") or {}),
                "body": body,
            }
            status = QUEUED
        except TemplateFailure as exc:  # not called with a broken body
            payload, status = {"error": f"the body cannot be rendered: {exc}"}, FAILED
        url = str(params.get("url"))
        batch.messages.append(
            NewMessage(
                effect.key,
                state.flow,
                effect.step or "-",
                state.id,
                cid,
                "webhook",
                None,
                url,
                payload,
                status,
            )
        )
    elif kind in CRM_KINDS:  # a value that cannot render shows its error in place
        data = {k: _render_deep(v, variables, shown) for k, v in effect.params.items()}
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
    spec = (content.mailings if email else content.sms).get(name)
    contact = variables["contact"]
    to = contact.get("email" if email else "phone")
    channel = "email" if email else "sms"
    what = f"{'mailing' if email else 'sms'} {name}"

    def failed(reason: str) -> NewMessage:  # never delivered, the reason kept
        step, address = effect.step or "-", None if to is None else str(to)
        payload = {"error": reason}
        return NewMessage(
            effect.key, state.flow, step, state.id, cid, channel, name, address, payload, FAILED
        )

    if spec is None:
        return failed(f"{what} is not in the store")
    keys = ("from", "subject", "text", "html") if email else ("text",)
    try:
        payload = {k: render(spec[k], variables) for k in keys if k in spec}
    except TemplateFailure as exc:
        return failed(f"{what} cannot be rendered for this contact: {exc}")
    if email and _tracker is not None:
        mail = Tracked(OPEN, effect.key, cid, name, state.flow, effect.step or "-")
        payload = _tracker.track(payload, mail, links=spec.get("tracking") is not False)
    return NewMessage(
        effect.key,
        state.flow,
        effect.step or "-",
        state.id,
        cid,
        channel,
        name,
        None if to is None else str(to),
        payload,
        send_at=send_at,
    )


def _render_deep(value: Any, variables: Mapping[str, Any], renderer: Renderer) -> Any:
    if isinstance(value, str):
        return renderer(value, variables)
    if isinstance(value, Mapping):
        return {k: _render_deep(v, variables, renderer) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_deep(v, variables, renderer) for v in value]
    return value
