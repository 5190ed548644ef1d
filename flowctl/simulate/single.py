"""Simulate one contact through a flow on a virtual clock (``flowctl simulate``).

The driver plays the daemon: it delivers the events in time order (each
also changes the contact as §11 says), lets the first event that matches a
trigger enter the contact (or, when none matches, enters it at the start as
if the first trigger fired), wakes the participant at its due times, and
feeds the events the participant emits back into its event list. When an
event and a due time fall on the same instant the event is delivered first
(so an event exactly at a wait_until's timeout meets it). It follows one
participation: once the contact has entered, later trigger events do not
enter it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from flowctl.engine import (
    WAITING,
    Context,
    Effect,
    Event,
    HistoryEntry,
    ParticipantState,
    Program,
    Result,
    advance,
    consider_entry,
    contact_key,
    first_trigger_event,
    matching_triggers,
)
from flowctl.engine.actions import template_variables
from flowctl.engine.contacts import apply_event
from flowctl.simulate.content import SENDING_STEPS, ContentIndex, Unsendable, outgoing, unsent
from flowctl.simulate.inputs import check_contact, parse_events, parse_span, parse_start
from flowctl.templating import render
from flowctl.timeutil import isoformat

DEFAULT_HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class SimulationResult:
    """One contact's simulated course; :meth:`to_dict` gives the CLI's JSON keys."""

    flow: str
    start: datetime
    zone: tzinfo
    """The flow's zone: instants in :meth:`to_dict` are shown in it."""
    enrolled: bool
    reason: str | None
    status: str | None
    succeeded: bool
    path: tuple[str, ...]
    timeline: tuple[HistoryEntry, ...]
    effects: tuple[Effect, ...]
    previews: Mapping[str, Mapping[str, Any]]
    """Rendered messages by effect key (when content was given)."""
    state: ParticipantState | None
    contact: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``{flow, enrolled, reason, status, succeeded, path, timeline, effects}`` (+ more)."""
        effects = []
        for effect in self.effects:
            item = effect._replace(at=effect.at.astimezone(self.zone)).to_dict()
            if effect.key in self.previews:
                item["content"] = dict(self.previews[effect.key])
            effects.append(item)
        return {
            "flow": self.flow,
            "enrolled": self.enrolled,
            "reason": self.reason,
            "status": self.status,
            "succeeded": self.succeeded,
            "path": list(self.path),
            "timeline": [
                entry._replace(at=entry.at.astimezone(self.zone)).to_dict()
                for entry in self.timeline
            ],
            "effects": effects,
            "start": isoformat(self.start.astimezone(self.zone)),
            "current_step": self.state.step if self.state else None,
            "due": isoformat(self.state.due) if self.state and self.state.due else None,
        }


def simulate(
    program: Program,
    contact: Any,
    events: Iterable[Any] | None,
    start: datetime | str,
    horizon: timedelta | str = DEFAULT_HORIZON,
    content: Iterable[Mapping[str, Any]] | ContentIndex | None = None,
    *,
    context: Context | None = None,
) -> SimulationResult:
    """Run ``contact`` through ``program`` from ``start`` for ``horizon``.

    ``events``: mappings ``{type, at, data}`` (``at`` an instant or an offset
    from start such as ``+2d``) or :class:`~flowctl.engine.Event` objects.
    ``content``: Mailing/Sms documents, to preview messages and to know which
    mailings are ``once_per_contact``. ``context``: frequency cap and earlier
    sends. Raises :class:`~flowctl.errors.InputError` for bad input.
    """
    person = check_contact(contact)
    contact_key(person)
    begin = parse_start(start, program.zone)
    end = begin + parse_span(horizon, "horizon")
    index = content if isinstance(content, ContentIndex) else ContentIndex.from_documents(content)
    base = context or Context(render=render)
    if index.once_per_contact:
        base = replace(base, once_per_contact=base.once_per_contact | index.once_per_contact)
    session = _Session(program, person, begin, base, index)
    session.run(parse_events(events, begin, program.zone), end)
    return session.result()


class _Session:
    """The virtual daemon for one contact."""

    def __init__(
        self,
        program: Program,
        contact: Mapping[str, Any],
        start: datetime,
        context: Context,
        content: ContentIndex,
    ) -> None:
        self.program = program
        self.contact = contact
        self.start = start
        self.context = context
        self.content = content
        self.state: ParticipantState | None = None
        self.refusal: str | None = None
        self.seen: list[Event] = []
        self.timeline: list[HistoryEntry] = []
        self.effects: list[Effect] = []
        self.previews: dict[str, Mapping[str, Any]] = {}

    def run(self, events: list[Event], end: datetime) -> None:
        if not any(e.at >= self.start and matching_triggers(self.program, e) for e in events):
            synthetic = first_trigger_event(self.program, self.start)
            before = [e for e in events if e.at < self.start]
            events = [*before, synthetic, *events[len(before) :]]
        pending = list(reversed(events))  # pop() from the end in time order
        while True:
            state = self.state
            due = state.due if state is not None and state.status == WAITING else None
            next_at = pending[-1].at if pending else None
            if due is not None and (next_at is None or due < next_at):
                if due > end:
                    return
                self._advance(due)
            elif next_at is not None:
                if next_at > end:
                    return
                self._deliver(pending.pop())
            else:
                return
            if self.state is not None and not self.state.live:
                return

    def _deliver(self, event: Event) -> None:
        self.contact = apply_event(self.contact, event)
        self.seen.append(event)
        if self.state is None:
            decision = consider_entry(
                self.program, event, self.contact, event.at, activated_at=self.start
            )
            if not decision.entered:
                if decision.reason != "no_trigger" and self.refusal is None:
                    self.refusal = decision.reason
                return
            self.state = decision.state
            self.timeline.append(HistoryEntry(event.at, None, event.type, "entered"))
        self._advance(event.at)

    def _advance(self, now: datetime) -> None:
        assert self.state is not None
        result = advance(self.program, self.state, self.contact, self.seen, now, self.context)
        self._absorb(result)

    def _absorb(self, result: Result) -> None:
        state = result.state
        variables = template_variables(state, result.contact, state.step_count)
        failed: dict[str, str] = {}
        for effect in result.effects:
            if effect.type not in SENDING_STEPS:
                continue
            if effect.type != "webhook":
                name = str(effect.params.get("mailing", effect.params.get("sms")))
                preview = self.content.preview(effect.type, name, variables)
                if preview is None:
                    continue  # its content was not given: nothing to render
                self.previews[effect.key] = preview
            try:
                outgoing(effect, self.content, variables)
            except Unsendable as exc:  # as the daemon would: the step fails, nothing is sent
                failed[effect.step or "-"] = str(exc)
        result = unsent(result, failed)
        self.state = state
        self.contact = result.contact
        self.seen.extend(result.emitted)
        self.timeline.extend(result.history)
        self.effects.extend(result.effects)
        # A send that failed was not sent: it counts for no cap, as in the daemon.
        sent = [e for e in result.effects if (e.step or "-") not in failed]
        self.context = sent_context(self.context, sent)

    def result(self) -> SimulationResult:
        state = self.state
        path = [entry.step for entry in self.timeline if entry.step is not None]
        if state is not None and state.status == WAITING and state.step is not None:
            since = state.wait_since or state.entered_at
            self.timeline.append(
                HistoryEntry(since, state.step, _type(self.program, state), "waiting")
            )
            path.append(state.step)
        return SimulationResult(
            flow=self.program.name,
            start=self.start,
            zone=self.program.zone,
            enrolled=state is not None,
            reason=None if state is not None else (self.refusal or "no_trigger"),
            status=state.status if state else None,
            succeeded=state is not None and state.succeeded_at is not None,
            path=tuple(path),
            timeline=tuple(self.timeline),
            effects=tuple(self.effects),
            previews=self.previews,
            state=state,
            contact=self.contact,
        )


def _type(program: Program, state: ParticipantState) -> str:
    step = program.steps.get(state.step or "")
    return step.type if step else "unknown"


def sent_context(context: Context, effects: Iterable[Effect]) -> Context:
    """``context`` with the messages among ``effects`` counted as sent."""
    times: list[datetime] = []
    mailings: set[str] = set()
    for effect in effects:
        if effect.type in ("send_email", "send_sms"):
            times.append(effect.at)
            if effect.type == "send_email":
                mailings.add(str(effect.params.get("mailing")))
    if not times:
        return context
    return replace(
        context,
        sent_at=context.sent_at + tuple(times),
        sent_mailings=context.sent_mailings | mailings,
    )
