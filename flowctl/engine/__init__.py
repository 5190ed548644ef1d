"""The pure engine: one participant, one step at a time, no I/O, no clock.

The model
=========

A flow document is compiled once (:func:`compile_flow`) into a
:class:`Program`: steps linked by id, conditions and times parsed. A
*participant* is one participation of one contact in one flow version, held
as a :class:`ParticipantState` — a plain frozen dataclass that a store keeps
as a row (flow, version, contact, status, step, due, entered_at,
succeeded_at, ended_at, reason) plus a small JSON blob (the trigger event,
step visit counts, step count, what it waits for); see
:meth:`ParticipantState.to_row`.

Everything is driven by three pure functions; drivers (``simulate``,
``flowctl test``, the daemon) differ only in the clock and where data lives:

- :func:`consider_entry` (program, event, contact, now, activation, prior
  participations) → :class:`EntryDecision` with the new ``active`` state,
  or the reason it was refused (``no_trigger``, ``before_activation``,
  ``filter`` (a trigger's or the flow's), ``already_active``, ``reentry``,
  ``reentry_after``).
- :func:`advance` (program, state, contact, events, now, context) →
  :class:`Result`: the new state, the contact with the participant's own
  changes applied, effects (what a daemon must perform: send, tag, call a
  webhook, enter another flow …, each with an idempotency key
  ``participant:version:step:visit``), emitted events (``email_sent``,
  ``tag_added`` …: the caller stores them as ordinary events, they already
  count for this participant within the same advance), and the history
  entries ``{at, step, type, outcome}``. Call it on entry, when ``due``
  comes, and when an event for the contact arrives.
- :func:`cancel` and :func:`migrate` for deactivation with cancel-scheduled
  and for ``on_update: migrate``.

Statuses are exactly ``active``, ``waiting``, ``completed``, ``succeeded``,
``exited``, ``canceled``; ``due`` is set iff the status is ``waiting``.
An advance runs steps at ``now`` until the participant waits (a delay, a
wait_until, a closed send window, the frequency cap) or ends. Before every
step (and on each advance of a waiting participant) it checks the success
criteria, then ``exit_when``. Only events from the trigger's instant up to
``now`` count. More than 1,000 steps in one advance exits with reason
``step_limit`` (at most 1,000 run).

Choices where the spec is silent are documented in the modules:
:mod:`~flowctl.engine.conditions` (comparisons, null), :mod:`~flowctl.engine.actions`
(outcomes, suppression), :mod:`~flowctl.engine.engine` (control outcomes),
:mod:`~flowctl.engine.entry` (entry reasons), :mod:`~flowctl.engine.timing`
(DST). Notably: an event exactly at a wait_until's timeout instant counts
as met; whole days of a delay are calendar days in the flow's zone.
"""

from __future__ import annotations

from flowctl.engine.conditions import Condition, Facts, compile_condition
from flowctl.engine.engine import STEP_LIMIT, advance, cancel, migrate, split_bucket, would_migrate
from flowctl.engine.entry import (
    EntryDecision,
    consider_entry,
    contact_key,
    first_trigger_event,
    matching_triggers,
)
from flowctl.engine.program import Program, Step, compile_flow
from flowctl.engine.run import contact_zone
from flowctl.engine.state import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    EXITED,
    FINAL_STATUSES,
    STATUSES,
    SUCCEEDED,
    WAITING,
    Context,
    Effect,
    Event,
    HistoryEntry,
    Limits,
    ParticipantState,
    Result,
)

__all__ = [
    "ACTIVE",
    "CANCELED",
    "COMPLETED",
    "EXITED",
    "FINAL_STATUSES",
    "STATUSES",
    "STEP_LIMIT",
    "SUCCEEDED",
    "WAITING",
    "Condition",
    "Context",
    "Effect",
    "EntryDecision",
    "Event",
    "Facts",
    "HistoryEntry",
    "Limits",
    "ParticipantState",
    "Program",
    "Result",
    "Step",
    "advance",
    "cancel",
    "compile_condition",
    "compile_flow",
    "consider_entry",
    "contact_key",
    "contact_zone",
    "first_trigger_event",
    "matching_triggers",
    "migrate",
    "split_bucket",
    "would_migrate",
]
