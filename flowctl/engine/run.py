"""The mutable working copy of one :func:`~flowctl.engine.advance` call.

A :class:`Run` starts from an immutable participant state, accumulates
changes, effects, emitted events and history, and is turned back into
immutable data by :meth:`Run.result`. Nothing here reads the clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from flowctl.engine.conditions import Facts
from flowctl.engine.program import Program
from flowctl.engine.state import (
    ACTIVE,
    WAITING,
    Context,
    Effect,
    Event,
    HistoryEntry,
    ParticipantState,
    Result,
)
from flowctl.errors import InvalidValue
from flowctl.timeutil import get_zone

_NO_CONTEXT = Context()


class Run:
    """One advance in progress."""

    def __init__(
        self,
        program: Program,
        state: ParticipantState,
        contact: Mapping[str, Any],
        events: Sequence[Event],
        now: datetime,
        context: Context | None,
    ) -> None:
        self.program = program
        self.state = state
        self.ctx = context or _NO_CONTEXT
        self.now = now
        self.status = state.status
        self.position = state.step
        self.last = state.step
        self.due = state.due
        self.succeeded_at = state.succeeded_at
        self.ended_at = state.ended_at
        self.reason = state.reason
        self.visits = state.visits
        self._visits_copied = False
        self.step_count = state.step_count
        self.hold = state.hold
        self.wait_since = state.wait_since
        self.contact = contact
        self._contact_copied = False
        since = state.since
        self.events: list[Event] = [e for e in events if since <= e.at <= now]
        # (a copy in every case: emitted events are appended to it)
        self.effects: list[Effect] = []
        self.emitted: list[Event] = []
        self.history: list[HistoryEntry] = []
        self.sent_at: list[datetime] | None = None
        self.sent_mailings: set[str] | None = None
        self.executed = 0
        self.key_prefix = f"{state.id}:{state.version}:"
        self.facts = Facts(
            contact=contact,
            now=now,
            zone=self.contact_zone(),
            events=self.events,
            trigger=state.trigger,
            company=self.ctx.company,
            entered_at=state.entered_at,
            step_count=state.step_count,
        )

    # --- zones -----------------------------------------------------------

    def contact_zone(self) -> tzinfo:
        """The contact's own zone with ``contact_timezone``, else the flow's."""
        return contact_zone(self.program, self.contact)

    # --- changes ---------------------------------------------------------

    def visit(self, step_id: str) -> int:
        """Count a start of ``step_id``; returns the visit number (1-based)."""
        if not self._visits_copied:
            self.visits = dict(self.visits)
            self._visits_copied = True
        count = self.visits.get(step_id, 0) + 1
        self.visits[step_id] = count  # type: ignore[index]
        return count

    def writable_contact(self) -> dict[str, Any]:
        """The contact, copied on first write so the caller's object is never changed."""
        if not self._contact_copied:
            self.contact = dict(self.contact)
            self._contact_copied = True
            self.facts.contact = self.contact
        assert isinstance(self.contact, dict)
        return self.contact

    def key(self, step_id: str | None) -> str:
        """The idempotency key of an effect of ``step_id`` at its current visit."""
        visit = self.visits.get(step_id, 1) if step_id else 1
        return f"{self.key_prefix}{step_id or 'flow'}:{visit}"

    def effect(self, step_id: str | None, type_: str, params: Mapping[str, Any]) -> None:
        """Record an effect for the daemon to perform."""
        self.effects.append(Effect(self.key(step_id), self.now, step_id, type_, params))

    def emit(self, type_: str, step_id: str, data: Mapping[str, Any]) -> None:
        """Emit an event; it joins this participant's events at once."""
        payload = dict(data)
        payload["step"] = step_id
        payload["flow"] = self.program.name
        event = Event(type_, self.now, payload)
        self.emitted.append(event)
        self.events.append(event)

    def record(
        self, step_id: str | None, type_: str, outcome: str, detail: str | None = None
    ) -> None:
        """Append a history entry at now."""
        self.history.append(HistoryEntry(self.now, step_id, type_, outcome, detail))

    def sent_times(self) -> list[datetime]:
        """Message send times for the frequency cap (earlier ones and this advance's)."""
        if self.sent_at is None:
            self.sent_at = list(self.ctx.sent_at)
        return self.sent_at

    def mailings_sent(self) -> set[str]:
        """Mailings already sent to the contact (earlier ones and this advance's)."""
        if self.sent_mailings is None:
            self.sent_mailings = set(self.ctx.sent_mailings)
        return self.sent_mailings

    # --- status ----------------------------------------------------------

    def wait(self, due: datetime, hold: str) -> None:
        """Become ``waiting`` until ``due`` in the current step."""
        self.status = WAITING
        self.due = due
        self.hold = hold
        self.wait_since = self.now

    def wake(self) -> None:
        """Leave a wait: ``active`` again, no due time."""
        self.status = ACTIVE
        self.due = None
        self.hold = None
        self.wait_since = None

    def finish(self, status: str, reason: str | None) -> None:
        """End the participation with a final ``status``."""
        self.status = status
        self.reason = reason
        self.ended_at = self.now
        self.due = None
        self.hold = None
        self.wait_since = None
        self.position = self.last

    def result(self) -> Result:
        """The immutable outcome of this advance."""
        old = self.state
        state = ParticipantState(
            old.flow,
            old.version,
            old.contact,
            self.status,
            self.position,
            self.due,
            old.entered_at,
            old.trigger,
            self.succeeded_at,
            self.ended_at,
            self.reason,
            self.visits,
            self.step_count,
            self.hold,
            self.wait_since,
        )
        return Result(
            state,
            self.contact,
            tuple(self.effects),
            tuple(self.emitted),
            tuple(self.history),
        )


def contact_zone(program: Program, contact: Mapping[str, Any]) -> tzinfo:
    """The zone a flow reads a contact's times in: the contact's own ``timezone``
    with ``contact_timezone``, else the flow's."""
    if program.contact_timezone:
        name = contact.get("timezone")
        if isinstance(name, str) and name:
            try:
                return get_zone(name)
            except InvalidValue:
                pass
    return program.zone
