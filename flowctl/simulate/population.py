"""Forecast a population through a flow (``flowctl simulate --participants``).

Each contact enters at ``start`` as if the flow's first trigger fired (the
filter and everything else apply as in the daemon) and runs on its own
virtual clock until it ends or the horizon comes. No events arrive from
outside; the participant's own emitted events count as usual.

``steps[id].reached`` counts participants who reached the step (once each,
those waiting in it at the horizon included); ``outcomes`` counts step
executions by outcome; ``pending`` those still waiting in it at the horizon.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from flowctl.engine import (
    WAITING,
    Context,
    Program,
    advance,
    consider_entry,
    first_trigger_event,
)
from flowctl.errors import FlowctlError
from flowctl.simulate.inputs import parse_span, parse_start
from flowctl.simulate.single import DEFAULT_HORIZON, sent_context
from flowctl.templating import render


@dataclass
class StepCount:
    """Per-step figures of a forecast."""

    reached: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pending: int = 0


@dataclass
class ForecastResult:
    """A population forecast; :meth:`to_dict` gives the CLI's JSON keys."""

    flow: str
    participants: int = 0
    enrolled: int = 0
    succeeded: int = 0
    steps: dict[str, StepCount] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    not_enrolled: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    """Rows that are not usable contacts: (1-based position in the input, message)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON keys ``flow, participants, enrolled, succeeded, steps`` (+ more)."""
        return {
            "flow": self.flow,
            "participants": self.participants,
            "enrolled": self.enrolled,
            "succeeded": self.succeeded,
            "steps": {
                sid: {"reached": c.reached, "outcomes": dict(c.outcomes), "pending": c.pending}
                for sid, c in self.steps.items()
            },
            "statuses": dict(self.statuses),
            "not_enrolled": dict(self.not_enrolled),
            "rejected": [{"row": row, "message": msg} for row, msg in self.rejected],
        }


def forecast(
    program: Program,
    contacts: Iterable[Any],
    start: datetime | str,
    horizon: timedelta | str = DEFAULT_HORIZON,
    *,
    context: Context | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> ForecastResult:
    """Run every contact of ``contacts`` through ``program``; bad rows are reported, not fatal.

    ``progress`` (if given) is called with the number of rows done so far.
    ``workers``: processes to use (default: one per CPU for large
    populations, on platforms that can fork; ``1`` runs in this process).
    The result does not depend on the number of workers.
    """
    begin = parse_start(start, program.zone)
    end = begin + parse_span(horizon, "horizon")
    job = _Job(program, begin, end, context or Context(render=render))
    result = ForecastResult(program.name, steps={sid: StepCount() for sid in program.steps})
    count = workers if workers is not None else (os.cpu_count() or 1)
    chunks = _chunks(contacts, CHUNK)
    first = next(chunks, [])
    if count > 1 and len(first) == CHUNK and "fork" in mp.get_all_start_methods():
        _run_parallel(job, itertools.chain([first], chunks), result, count, progress)
    else:
        for chunk in itertools.chain([first], chunks):
            _merge(result, job.run(chunk))
            if progress is not None:
                progress(result.participants + len(result.rejected))
    result.rejected.sort()
    return result


CHUNK = 5000
"""Rows per unit of work (and per progress report)."""

_JOB: _Job | None = None


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for row, item in enumerate(rows, start=1):
        chunk.append((row, item))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run_parallel(
    job: _Job,
    chunks: Iterator[list[tuple[int, Any]]],
    result: ForecastResult,
    workers: int,
    progress: Callable[[int], None] | None,
) -> None:
    global _JOB
    _JOB = job  # inherited by the forked workers: compiled programs do not pickle
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            for part in pool.imap_unordered(_run_chunk, chunks):
                _merge(result, part)
                if progress is not None:
                    progress(result.participants + len(result.rejected))
    finally:
        _JOB = None


def _run_chunk(chunk: list[tuple[int, Any]]) -> ForecastResult:
    assert _JOB is not None
    return _JOB.run(chunk)


def _merge(into: ForecastResult, part: ForecastResult) -> None:
    into.participants += part.participants
    into.enrolled += part.enrolled
    into.succeeded += part.succeeded
    for sid, count in part.steps.items():
        target = into.steps[sid]
        target.reached += count.reached
        target.pending += count.pending
        for outcome, n in count.outcomes.items():
            target.outcomes[outcome] = target.outcomes.get(outcome, 0) + n
    for table, extra in ((into.statuses, part.statuses), (into.not_enrolled, part.not_enrolled)):
        for key, n in extra.items():
            table[key] = table.get(key, 0) + n
    into.rejected.extend(part.rejected)


class _Job:
    """One forecast's fixed inputs, and the per-contact loop (the hot path)."""

    def __init__(self, program: Program, begin: datetime, end: datetime, context: Context) -> None:
        self.program = program
        self.begin = begin
        self.end = end
        self.context = context
        self.track_sends = context.limits is not None or bool(context.once_per_contact)
        self.trigger = first_trigger_event(program, begin)

    def run(self, rows: list[tuple[int, Any]]) -> ForecastResult:
        program, begin, end, trigger = self.program, self.begin, self.end, self.trigger
        result = ForecastResult(program.name, steps={sid: StepCount() for sid in program.steps})
        steps = result.steps
        statuses = result.statuses
        for row, contact in rows:
            if not isinstance(contact, Mapping):
                result.rejected.append((row, f"not a contact (a {type(contact).__name__})"))
                continue
            try:
                decision = consider_entry(program, trigger, contact, begin, activated_at=begin)
            except FlowctlError as exc:
                result.rejected.append((row, exc.message))
                continue
            result.participants += 1
            state = decision.state
            if state is None:
                reason = decision.reason or "filter"
                result.not_enrolled[reason] = result.not_enrolled.get(reason, 0) + 1
                continue
            result.enrolled += 1
            events = [trigger]
            ctx = self.context
            now = begin
            reached: set[str] = set()
            while True:
                res = advance(program, state, contact, events, now, ctx)
                state = res.state
                contact = res.contact
                for entry in res.history:
                    sid = entry.step
                    if sid is None:
                        continue
                    count = steps[sid]
                    count.outcomes[entry.outcome] = count.outcomes.get(entry.outcome, 0) + 1
                    if sid not in reached:
                        reached.add(sid)
                        count.reached += 1
                if res.emitted:
                    events.extend(res.emitted)
                if self.track_sends and res.effects:
                    ctx = sent_context(ctx, res.effects)
                due = state.due
                if state.status != WAITING or due is None or due > end:
                    break
                now = due
            statuses[state.status] = statuses.get(state.status, 0) + 1
            if state.succeeded_at is not None:
                result.succeeded += 1
            if state.status == WAITING and state.step is not None:
                count = steps[state.step]
                count.pending += 1
                if state.step not in reached:
                    count.reached += 1
        return result


def with_limits(context: Context | None, messages: int, per: timedelta) -> Context:
    """A context with the store-wide frequency cap set (for callers that read ``[limits]``)."""
    from flowctl.engine import Limits

    return replace(context or Context(), limits=Limits(messages, per))
