"""Entry: does an event make a contact a participant of a flow? (spec §3, §4)

:func:`consider_entry` checks, in this order, and names the first rule that
refuses (the ``reason``):

1. ``no_trigger`` — no trigger has the event's type and params;
2. ``before_activation`` — the event occurred before the flow's activation;
3. ``filter`` — triggers matched but each one's own ``filter`` failed;
4. ``already_active`` — the contact is an active or waiting participant;
5. ``reentry`` — ``reentry: never`` and the contact has been a participant;
6. ``reentry_after`` — ended too recently for ``reentry_after``;
7. ``filter`` — the flow's ``filter`` (which sees the trigger data) failed.

A trigger's filter and the flow's refuse with the same reason, ``filter``
(the one the command line names); ``trigger`` tells which: the trigger
whose filter failed, or the one that passed.

Trigger type ``event`` (custom events) matches an event of type ``event``
whose ``data.name`` is the trigger's ``name``, or an event whose type *is*
that name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flowctl.engine.conditions import Facts, event_matches
from flowctl.engine.program import Program, Trigger
from flowctl.engine.run import contact_zone
from flowctl.engine.state import ACTIVE, LIVE_STATUSES, Context, Event, ParticipantState
from flowctl.errors import InputError


@dataclass(frozen=True, slots=True)
class EntryDecision:
    """The answer of :func:`consider_entry`: ``state`` is the new participant when entered."""

    entered: bool
    reason: str | None
    trigger: int | None
    state: ParticipantState | None


def contact_key(contact: Mapping[str, Any]) -> str:
    """The contact's identity: its ``id``, else its ``email``."""
    if not isinstance(contact, Mapping):
        raise InputError(
            f"a contact must be a mapping of fields, not {type(contact).__name__}",
            hint="write it as {id: ..., email: ..., tags: [...]}",
        )
    for key in ("id", "email"):
        value = contact.get(key)
        if value not in (None, ""):
            return str(value)
    raise InputError("a contact needs an 'id' or an 'email'", hint="add id: or email: to it")


def trigger_matches(trigger: Trigger, event: Event) -> bool:
    """Does ``event`` have the trigger's type and params (url params as globs)?"""
    return event_matches(event, trigger.type, trigger.params)


def matching_triggers(program: Program, event: Event) -> list[int]:
    """Indexes of the triggers whose type and params match ``event``."""
    return [i for i, t in enumerate(program.triggers) if trigger_matches(t, event)]


def consider_entry(
    program: Program,
    event: Event,
    contact: Mapping[str, Any],
    now: datetime,
    *,
    activated_at: datetime | None = None,
    prior: Sequence[ParticipantState] = (),
    context: Context | None = None,
    direct: bool = False,
) -> EntryDecision:
    """Decide whether ``event`` enters ``contact`` into ``program``.

    ``activated_at``: when the flow was (last) activated; earlier events do
    not enter. ``prior``: this contact's earlier participations in this flow
    (any version). ``direct``: an entry not made by a trigger (manual
    enrollment, ``start_flow``, ``transfer_to``): triggers and the activation
    time are not checked; reentry and the filter are. The new participant is
    ``active`` at the first step with ``entered_at = now``; call
    :func:`~flowctl.engine.advance` on it next.
    """
    contact_id = contact_key(contact)
    candidates = [] if direct else matching_triggers(program, event)
    if not direct and not candidates:
        return EntryDecision(False, "no_trigger", None, None)
    if not direct and activated_at is not None and event.at < activated_at:
        return EntryDecision(False, "before_activation", None, None)
    company = context.company if context else None
    facts = Facts(
        contact=contact,
        now=now,
        zone=contact_zone(program, contact),  # as the steps read it (contact_timezone)
        events=[event],
        trigger=event,
        company=company,
        entered_at=now,
    )
    chosen = next(
        (i for i in candidates if _passes(program.triggers[i], facts)),
        None,
    )
    if chosen is None and not direct:
        return EntryDecision(False, "filter", candidates[0], None)
    refusal = _reentry_refusal(program, prior, now)
    if refusal:
        return EntryDecision(False, refusal, chosen, None)
    if program.filter is not None and not program.filter.holds(facts):
        return EntryDecision(False, "filter", chosen, None)
    state = ParticipantState(
        flow=program.name,
        version=program.version,
        contact=contact_id,
        status=ACTIVE,
        step=program.first,
        due=None,
        entered_at=now,
        trigger=event,
    )
    return EntryDecision(True, None, chosen, state)


def _passes(trigger: Trigger, facts: Facts) -> bool:
    return trigger.filter is None or trigger.filter.holds(facts)


def _reentry_refusal(
    program: Program, prior: Sequence[ParticipantState], now: datetime
) -> str | None:
    if not prior:
        return None
    if any(p.status in LIVE_STATUSES for p in prior):
        return "already_active"
    if program.reentry == "never":
        return "reentry"
    if program.reentry_after is not None:
        ends = [p.ended_at for p in prior if p.ended_at is not None]
        if ends and now - max(ends) < program.reentry_after:
            return "reentry_after"
    return None


def first_trigger_event(program: Program, at: datetime) -> Event:
    """The event "as if the first trigger fired" at ``at`` (its params as data)."""
    trigger = program.triggers[0]
    if trigger.type == "event" and "name" in trigger.params:
        return Event("event", at, dict(trigger.params))
    data = {k: _example(v) if k == "url" else v for k, v in trigger.params.items()}
    return Event(trigger.type, at, data)


def _example(value: Any) -> Any:
    """A value that a url glob matches (``*`` dropped, ``?`` as ``x``)."""
    if not isinstance(value, str):
        return value
    return value.replace("*", "").replace("?", "x")
