"""``flowctl why FLOW --contact REF``: why a contact is, or is not, in a flow.

For each stored event of the contact that could enter the flow (an event of
a trigger's type, or a manual entry aimed at the flow) :func:`explain`
says what became of it, with the engine's own entry rules
(:func:`~flowctl.engine.consider_entry`, spec §4) replayed at the event's
instant:

- ``entered`` — it made the participation named;
- ``no_trigger`` — the type matches but no trigger's params do;
- ``before_activation`` — it occurred before the flow was activated (or
  the flow was never activated); ``inactive`` — while it was deactivated;
- ``filter`` — a filter (the trigger's or the flow's) was false: the
  failing condition is named, with the value it saw;
- ``already_active`` — the contact was a participant at that time;
- ``reentry`` / ``reentry_after`` — it had been a participant before and
  ``reentry: never`` (or ``reentry_after``) keeps it out;
- ``held`` — it passes every rule, and waits for the paused flow to resume;
- ``not_entered`` — it passes every rule today, yet no participation came
  of it: the daemon has not handled it yet, or the contact was different then.

Filters are evaluated against the contact as it is now, and every event
against the current version of the flow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from flowctl.engine import WAITING, Event, Facts, ParticipantState, compile_condition
from flowctl.engine import consider_entry as decide
from flowctl.engine.conditions import MEMBERSHIPS, resolve_path
from flowctl.engine.entry import matching_triggers
from flowctl.engine.program import Program, compile_flow
from flowctl.engine.run import contact_zone
from flowctl.graph.model import summarize
from flowctl.operate import rights
from flowctl.operate.intake import find_contact
from flowctl.operate.lookup import require_flow
from flowctl.store import FLOW, PAUSED, Activation, Store
from flowctl.timeutil import format_duration, isoformat

MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class EventVerdict:
    """What became of one event: ``decision`` is a reason code (see the module doc)."""

    type: str
    at: datetime
    id: str | None
    data: Mapping[str, Any]
    matched: bool
    decision: str
    message: str
    failing: str | None = None
    participant: str | None = None


@dataclass(frozen=True, slots=True)
class Why:
    """The answer: the flow's state and rules, each event's fate, the participations."""

    flow: str
    contact: str
    state: str
    version: int
    activations: tuple[Activation, ...]
    triggers: tuple[str, ...]
    filter: str | None
    filter_failing: str | None
    reentry: str
    reentry_after: str | None
    events: tuple[EventVerdict, ...]
    other_events: int
    participations: tuple[ParticipantState, ...]
    elsewhere: tuple[ParticipantState, ...]
    verdict: str
    summary: str
    zone: tzinfo
    """The flow's time zone: instants are shown in it."""


def explain(store: Store, flow: str, ref: str, *, now: datetime) -> Why:
    """Why the contact ``ref`` is or is not in ``flow`` (``NotFound`` for either unknown)."""
    rights.authorize(store, rights.VIEW)
    row = require_flow(store, flow)
    contact = find_contact(store, ref)
    doc = store.document(FLOW, flow)
    assert doc is not None
    program = compile_flow(doc.document, doc.version)
    periods = tuple(store.activations(flow))
    parts = store.participations([contact.cid]).get(contact.cid, [])
    mine = tuple(p for p in parts if p.flow == flow)
    wanted = {t.type for t in program.triggers} | {
        str(t.params["name"]) for t in program.triggers if t.type == "event" and "name" in t.params
    }
    verdicts: list[EventVerdict] = []
    held = row.state == PAUSED
    others = 0
    for stored in store.events_for(contact.cid, limit=100_000):
        event = Event(stored["type"], stored["at"], stored["data"], stored["id"])
        aimed = event.data.get("flow") if event.type == MANUAL else None
        if (aimed is None and event.type not in wanted) or aimed not in (None, flow):
            others += 1
            continue
        verdicts.append(
            _judge(program, event, contact.data, periods, mine, direct=aimed == flow, held=held)
        )
    facts = _facts(program, contact.data, Event(MANUAL, now), now)
    failing = _failing(program.filter.source, facts) if program.filter else None
    verdict, summary = _verdict(row.state, mine, verdicts, program)
    return Why(
        flow=flow,
        contact=ref,
        state=row.state,
        version=row.version,
        activations=periods,
        triggers=tuple(_trigger_text(t.type, t.params) for t in program.triggers),
        filter=summarize(program.filter.source) if program.filter else None,
        filter_failing=failing,
        reentry=program.reentry,
        reentry_after=format_duration(program.reentry_after) if program.reentry_after else None,
        events=tuple(verdicts),
        other_events=others,
        participations=mine,
        elsewhere=tuple(p for p in parts if p.flow != flow),
        verdict=verdict,
        summary=summary,
        zone=program.zone,
    )


def _judge(
    program: Program,
    event: Event,
    contact: Mapping[str, Any],
    periods: Sequence[Activation],
    parts: Sequence[ParticipantState],
    *,
    direct: bool,
    held: bool = False,
) -> EventVerdict:
    def verdict(decision: str, message: str, **more: Any) -> EventVerdict:
        matched = direct or bool(matching_triggers(program, event))
        return EventVerdict(
            event.type, event.at, event.id, event.data, matched, decision, message, **more
        )

    made = next((p for p in parts if _made_by(p, event)), None)
    if made is not None:
        where = f" at step {made.step}" if made.live and made.step else ""
        return verdict(
            "entered", f"entered: {made.id}, now {made.status}{where}", participant=made.id
        )
    candidates = [] if direct else matching_triggers(program, event)
    if not direct and not candidates:
        wants = ", ".join(_trigger_text(t.type, t.params) for t in program.triggers)
        got = _trigger_text(event.type, event.data)
        return verdict("no_trigger", f"{got} matches no trigger; the flow waits for {wants}")
    period = next((a for a in reversed(periods) if a.started_at <= event.at), None)
    if not direct and period is None:
        first = (
            f"first activated {_local(periods[0].started_at, program)}"
            if periods
            else "never activated"
        )
        return verdict(
            "before_activation", f"occurred before the flow was {first}; only later events enter"
        )
    if not direct and period is not None and period.ended_at and period.ended_at <= event.at:
        return verdict(
            "inactive", f"the flow was deactivated at {_local(period.ended_at, program)}"
        )
    prior = [_as_at(p, event.at) for p in parts if p.since <= event.at]
    start = period.started_at if period else None
    decision = decide(
        program, event, contact, event.at, activated_at=start, prior=prior, direct=direct
    )
    reason = decision.reason
    facts = _facts(program, contact, event, event.at)
    trigger = program.triggers[decision.trigger] if decision.trigger is not None else None
    if reason == "filter" and trigger and trigger.filter and not trigger.filter.holds(facts):
        failing = _failing(trigger.filter.source, facts)
        return verdict(reason, f"the trigger's filter is false: {failing}", failing=failing)
    if reason == "filter" and program.filter is not None:
        failing = _failing(program.filter.source, facts)
        return verdict(reason, f"the flow's filter is false: {failing}", failing=failing)
    if reason == "already_active":
        live = next(p for p in prior if p.live)
        return verdict(
            reason,
            f"already a participant then ({live.id}, entered {_local(live.entered_at, program)})",
            participant=live.id,
        )
    if reason in ("reentry", "reentry_after"):
        last = max(prior, key=lambda p: p.entered_at)
        ended = _local(last.ended_at, program) if last.ended_at else "?"
        rule = "reentry: never"
        if reason == "reentry_after" and program.reentry_after is not None:
            rule = f"reentry_after: {format_duration(program.reentry_after)}"
        return verdict(
            reason,
            f"was a participant before ({last.id}, ended {ended}) and the flow has {rule}",
            participant=last.id,
        )
    if held:
        return verdict("held", "kept while the flow is paused: it is considered on resume")
    return verdict(
        "not_entered",
        "passes every rule today, yet no participation came of it: the daemon has not"
        " handled it yet, or the contact differed then",
    )


def _local(moment: datetime, program: Program) -> str:
    """An instant in the flow's own time zone, as marketers read it."""
    return isoformat(moment.astimezone(program.zone))


def _made_by(part: ParticipantState, event: Event) -> bool:
    trig = part.trigger
    if trig.id is not None and event.id is not None:
        return trig.id == event.id
    return trig.type == event.type and trig.at == event.at


def _as_at(part: ParticipantState, at: datetime) -> ParticipantState:
    """The participation as it stood at ``at``: live unless it had ended by then."""
    if part.ended_at is not None and part.ended_at <= at:
        return part
    return replace(part, status=WAITING, ended_at=None) if not part.live else part


def _facts(program: Program, contact: Mapping[str, Any], event: Event, at: datetime) -> Facts:
    zone = contact_zone(program, contact)  # as entry reads it (contact_timezone)
    return Facts(contact=contact, now=at, zone=zone, events=[event], trigger=event, entered_at=at)


def _failing(source: Any, facts: Facts) -> str | None:
    """None when the condition holds; else the first leaf that fails, with the value it saw."""
    if compile_condition(source).holds(facts):
        return None
    if isinstance(source, Mapping) and "all" in source:
        failed = (_failing(c, facts) for c in source["all"])
        return next((f for f in failed if f), summarize(source))
    if isinstance(source, Mapping) and "any" in source:
        return "none of: " + "; ".join(str(_failing(c, facts)) for c in source["any"])
    if isinstance(source, Mapping) and "not" in source:
        inner = summarize(source["not"])
        return f"not ({inner}): {inner} holds"
    text = summarize(source)
    if not isinstance(source, Mapping) or "event" in source:
        return text
    if "field" in source:
        return f"{text} (the value is {resolve_path(facts, str(source['field']))!r})"
    for key, attr in MEMBERSHIPS.items():
        if key in source:
            return f"{text} (the contact's {attr}: {list(facts.contact.get(attr) or [])})"
    return text


def _verdict(
    state: str, mine: Sequence[ParticipantState], events: Sequence[EventVerdict], program: Program
) -> tuple[str, str]:
    live = [p for p in mine if p.live]
    if live:
        p = live[-1]
        return (
            "participant",
            f"in the flow: {p.status} at step {p.step} since {_local(p.entered_at, program)}",
        )
    refused = [e for e in events if e.decision != "entered"]
    last = refused[-1] if refused else None
    if mine:
        p = max(mine, key=lambda p: p.entered_at)
        text = f"was in the flow: {p.status}" + (f" ({p.reason})" if p.reason else "")
        return (last.decision if last else p.status), text + (
            f"; since then: {last.message}" if last else ""
        )
    if last is not None:
        return last.decision, f"not in the flow: {last.message}"
    wants = ", ".join(_trigger_text(t.type, t.params) for t in program.triggers)
    note = "" if state == "active" else f" (and the flow is {state})"
    return (
        "no_trigger",
        f"not in the flow: no event that could enter it was recorded; it waits for {wants}{note}",
    )


def _trigger_text(type_: str, params: Mapping[str, Any]) -> str:
    shown = " ".join(f"{k}={v}" for k, v in params.items() if isinstance(v, str | int | float))
    return f"{type_} {shown}".strip()
