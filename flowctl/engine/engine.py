"""The engine: :func:`advance` a participant, :func:`cancel` it, :func:`migrate` it.

Control-step outcomes recorded in history (spec §5.2): ``delay`` →
``waited``; ``wait_until`` → ``met``/``timeout``; ``decision`` →
``then``/``else``; ``split`` → the variant's name; ``goto`` → ``jump``;
``end`` → ``end``. Entries with no step: ``success`` → ``succeeded``,
``exit_when`` → ``exited``, ``step_limit`` → ``exited``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from flowctl.engine.actions import run_action
from flowctl.engine.conditions import Facts, resolve_path
from flowctl.engine.operators import to_instant
from flowctl.engine.program import (
    ActionStep,
    DecisionStep,
    DelayStep,
    EndStep,
    GotoStep,
    Program,
    SplitStep,
    Step,
    WaitUntilStep,
)
from flowctl.engine.run import Run
from flowctl.engine.state import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    EXITED,
    FINAL_STATUSES,
    SUCCEEDED,
    WAITING,
    Context,
    Event,
    ParticipantState,
    Result,
)
from flowctl.engine.timing import add_span, next_time_of_day
from flowctl.errors import InputError

STEP_LIMIT = 1000
"""Steps a participant may execute in one go without waiting (spec §5.2)."""


def advance(
    program: Program,
    state: ParticipantState,
    contact: Mapping[str, Any],
    events: Sequence[Event],
    now: datetime,
    context: Context | None = None,
) -> Result:
    """Run a participant from where it stands until it waits or ends.

    ``events`` are the contact's events (those before the participation
    started or after ``now`` are ignored). Call it when the participant
    enters (status ``active``), when its due time comes, and when an event
    for its contact arrives. Pure: the same inputs give the same result.
    """
    if type(contact) is not dict and not isinstance(contact, Mapping):
        raise InputError(f"a contact must be a mapping of fields, not {type(contact).__name__}")
    if state.status in FINAL_STATUSES:
        return Result(state, contact, (), (), ())
    run = Run(program, state, contact, events, now, context)
    resuming = state.status == WAITING
    while True:
        if _leaves(run):
            break
        if resuming:
            resuming = False
            if not _resume(run):
                break
            continue
        if run.position is None:
            run.finish(COMPLETED, None)
            break
        if run.executed >= STEP_LIMIT:
            run.record(None, "step_limit", EXITED, f"{STEP_LIMIT} steps without waiting")
            run.finish(EXITED, "step_limit")
            break
        step = program.steps.get(run.position)
        if step is None:
            run.finish(EXITED, "step_removed")
            break
        _execute(run, step, resumed=False)
        if run.status != ACTIVE:
            break
    return run.result()


def _leaves(run: Run) -> bool:
    """Success and ``exit_when`` checks before a step; True when the participation ended."""
    program = run.program
    success = program.success
    if success is None and program.exit_when is None:
        return False
    run.facts.step_count = run.step_count
    if success is not None and run.succeeded_at is None and success.when.holds(run.facts):
        run.succeeded_at = run.now
        run.record(None, "success", SUCCEEDED)
        if success.transfer_to:
            run.effect(None, "transfer", {"flow": success.transfer_to})
        if success.stop:
            run.finish(SUCCEEDED, "success")
            return True
    if program.exit_when is not None and program.exit_when.holds(run.facts):
        run.record(None, "exit_when", EXITED)
        run.finish(EXITED, "exit_when")
        return True
    return False


def _resume(run: Run) -> bool:
    """Handle the step a waiting participant is in; True when it may go on."""
    step = run.program.steps.get(run.position or "")
    if step is None:
        run.finish(EXITED, "step_removed")
        return False
    due = run.due
    assert due is not None
    if isinstance(step, WaitUntilStep):
        return _resume_wait_until(run, step, due)
    if run.now < due:
        return False
    run.wake()
    if isinstance(step, DelayStep):
        run.record(step.id, step.type, "waited")
        run.position = step.next
        return True
    # a message held by the send window or the frequency cap: run it again
    _execute(run, step, resumed=True)
    return run.status == ACTIVE


def _resume_wait_until(run: Run, step: WaitUntilStep, deadline: datetime) -> bool:
    # An event at exactly the deadline counts as met; a later one does not.
    if run.now <= deadline:
        met = step.condition.holds(run.facts)
    else:
        facts = _facts_at(run, deadline)
        met = step.condition.holds(facts)
    if met:
        run.wake()
        run.record(step.id, step.type, "met")
        run.position = step.next
        return True
    if run.now < deadline:
        return False
    run.wake()
    run.record(step.id, step.type, "timeout")
    run.position = step.on_timeout
    return True


def _facts_at(run: Run, moment: datetime) -> Facts:
    base = run.facts
    return Facts(
        contact=base.contact,
        now=moment,
        zone=base.zone,
        events=[e for e in base.events if e.at <= moment],
        trigger=base.trigger,
        company=base.company,
        entered_at=base.entered_at,
        step_count=base.step_count,
    )


def _execute(run: Run, step: Step, *, resumed: bool) -> None:
    if not resumed:
        run.visit(step.id)
        run.step_count += 1
        run.executed += 1
    run.last = step.id
    if isinstance(step, ActionStep):
        run_action(run, step)
    elif isinstance(step, DecisionStep):
        run.facts.step_count = run.step_count
        taken = step.condition.holds(run.facts)
        run.record(step.id, step.type, "then" if taken else "else")
        run.position = step.then_step if taken else step.else_step
    elif isinstance(step, DelayStep):
        _delay(run, step)
    elif isinstance(step, WaitUntilStep):
        run.facts.step_count = run.step_count
        if step.condition.holds(run.facts):
            run.record(step.id, step.type, "met")
            run.position = step.next
        else:
            run.wait(add_span(run.now, step.timeout, run.program.zone), "wait_until")
    elif isinstance(step, SplitStep):
        variant = step.variants[-1]
        bucket = split_bucket(run.program.name, step.id, run.state.contact)
        for candidate in step.variants:
            if bucket < candidate.upto:
                variant = candidate
                break
        run.record(step.id, step.type, variant.name)
        run.position = variant.first
    elif isinstance(step, GotoStep):
        run.record(step.id, step.type, "jump")
        run.position = step.target
    elif isinstance(step, EndStep):
        run.record(step.id, step.type, "end")
        run.finish(COMPLETED, None)


def split_bucket(flow: str, step_id: str, contact_id: str) -> int:
    """A stable number 0..99 from flow name, step id and contact id (SHA-256)."""
    digest = hashlib.sha256(f"{flow}\x1f{step_id}\x1f{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def _delay(run: Run, step: DelayStep) -> None:
    due: datetime | None
    detail = None
    if step.duration is not None:
        due = add_span(run.now, step.duration, run.program.zone)
    elif step.until is not None:
        due = next_time_of_day(run.now, step.until, step.days, run.facts.zone)
    else:
        path = str(step.until_date)  # contact., company., trigger. …; a bare name: contact's
        rooted = path.startswith(("contact.", "company.", "trigger.", "participant."))
        value = resolve_path(run.facts, path if rooted else f"contact.{path}")
        moment = to_instant(value, run.facts.zone)
        due = None if moment is None else add_span(moment, step.offset, run.facts.zone)
        if due is None:
            detail = "no_date"
        elif due <= run.now:
            detail = "past"
    if due is None or due <= run.now:
        run.record(step.id, step.type, "waited", detail)
        run.position = step.next
        return
    run.wait(due, "delay")


def cancel(state: ParticipantState, now: datetime) -> ParticipantState:
    """Deactivation with cancel-scheduled: a live participant ends ``canceled`` at once."""
    if state.status in FINAL_STATUSES:
        return state
    return replace(
        state,
        status=CANCELED,
        reason="canceled",
        ended_at=now,
        due=None,
        hold=None,
        wait_since=None,
    )


def migrate(state: ParticipantState, program: Program, now: datetime) -> ParticipantState:
    """Move a live participant to a new version (``on_update: migrate``, spec §9).

    It goes on at the step with the same id. If it waits in a step whose type
    is unchanged it keeps its due time; otherwise it becomes ``active`` in
    that step, to run it afresh. If the id is gone it ends ``exited``,
    reason ``step_removed``. Final participants are returned unchanged.
    """
    if state.status in FINAL_STATUSES:
        return state
    step = program.steps.get(state.step or "")
    if step is None:
        return replace(
            state,
            status=EXITED,
            reason="step_removed",
            ended_at=now,
            due=None,
            hold=None,
            wait_since=None,
        )
    moved = replace(state, version=program.version)
    if state.status == WAITING and _same_wait(state.hold, step):
        return moved
    return replace(moved, status=ACTIVE, due=None, hold=None, wait_since=None)


def _same_wait(hold: str | None, step: Step) -> bool:
    if hold in ("delay", "wait_until"):
        return step.type == hold
    return step.type in ("send_email", "send_sms")


def would_migrate(states: Sequence[ParticipantState], program: Program) -> dict[str, int]:
    """How many live participants would migrate and how many exit with ``step_removed``."""
    counts = {"migrate": 0, "step_removed": 0}
    for state in states:
        if state.status in FINAL_STATUSES:
            continue
        counts["migrate" if (state.step or "") in program.steps else "step_removed"] += 1
    return counts
