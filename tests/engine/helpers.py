"""Small builders for engine tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flowctl.engine import (
    Context,
    Event,
    ParticipantState,
    Program,
    Result,
    advance,
    compile_flow,
    consider_entry,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


def flow(steps: list[dict[str, Any]], **spec: Any) -> Program:
    """A compiled flow with a ``manual`` trigger unless triggers are given."""
    body: dict[str, Any] = {"triggers": [{"type": "manual"}], "steps": steps}
    body.update(spec)
    return compile_flow(
        {"apiVersion": "flowctl/v1", "kind": "Flow", "metadata": {"name": "t"}, "spec": body}
    )


def contact(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "c1", "email": "ann@example.com", "tags": []}
    base.update(fields)
    return base


def enter(
    program: Program,
    person: dict[str, Any] | None = None,
    at: datetime = T0,
    context: Context | None = None,
) -> tuple[Result, list[Event]]:
    """Enter by a ``manual`` event at ``at`` and advance once."""
    person = person if person is not None else contact()
    event = Event("manual", at, {})
    decision = consider_entry(program, event, person, at)
    assert decision.state is not None, decision.reason
    events = [event]
    result = advance(program, decision.state, person, events, at, context)
    return result, events + list(result.emitted)


def resume(
    program: Program,
    result: Result,
    events: Sequence[Event],
    now: datetime | None = None,
    context: Context | None = None,
) -> Result:
    """Advance again at ``now`` (default: the due time)."""
    state: ParticipantState = result.state
    when = now if now is not None else state.due
    assert when is not None
    return advance(program, state, result.contact, list(events), when, context)


def outcomes(result: Result) -> list[tuple[str | None, str]]:
    return [(h.step, h.outcome) for h in result.history]
