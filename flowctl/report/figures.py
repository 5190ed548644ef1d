"""The figures of a flow's report, computed from the store for a period.

:func:`build_report` reads only what survives the retention purge: the
per-step counters ``(day, step, outcome) → n`` and the daily counters
``(day, metric) → n`` that the daemon writes in the same transaction as
each advance, the participant rows (never purged) and the flow's versions.
So the same report comes out before and after old history is deleted.

What each figure means:

- ``participants``: participations entered in the period (the ``entered``
  counters); with no period, every participation the store holds.
- ``succeeded``: participations that have succeeded; with a period, of
  those entered in it (read from the participants, so never more than
  ``participants``), else every success (the counters).
  ``success_rate`` is ``succeeded / participants`` (spec §7), 0 when none.
- ``statuses``: the participations entered in the period (every one, with
  no period) by their status *now*; one whose wait has ended counts as
  ``active`` (running or due, spec §8) unless the flow is paused.
- ``entries``: participations entered per day, every day of the period
  (zeros included).
- per step, in document order: ``outcomes`` (executions finished in the
  period, by outcome: ``sent``, ``then``, a split variant's name …),
  ``pending`` (participants in the step now: waiting in a delay, a
  wait_until or a send window) and ``reached`` = the outcomes plus, when
  the period runs up to today, the pending ones. A step run twice by one
  participant (a ``goto`` loop) counts twice.
- per mailing: ``sent`` (its e-mails queued in the period that were
  delivered: not those still queued, failed or canceled),
  ``opened`` and ``clicked`` (contacts who first opened / clicked it in the
  period, from the ``opened:NAME`` / ``clicked:NAME`` daily counters).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from flowctl.engine import STATUSES, compile_flow
from flowctl.engine.program import ActionStep, Program, Step
from flowctl.errors import InvalidValue, UsageError
from flowctl.operate.lookup import unknown_flow
from flowctl.store import FLOW, PAUSED, Store

NO_STEP: Final = "-"
"""The counters' step for entries that belong to no step (success, exit_when)."""
BRANCHING: Final = frozenset({"decision", "split", "wait_until"})
OPENED: Final = "opened"
CLICKED: Final = "clicked"


@dataclass(frozen=True, slots=True)
class StepFigures:
    """One step of the funnel; ``depth`` is how many branches deep it sits."""

    id: str
    type: str
    title: str | None
    depth: int
    outcomes: Mapping[str, int]
    pending: int
    reached: int
    removed: bool = False
    """The step is not in the current version (counted under an older one)."""

    @property
    def branching(self) -> bool:
        """A decision, split or wait_until: its outcomes are branches."""
        return self.type in BRANCHING


@dataclass(frozen=True, slots=True)
class MailingFigures:
    """Sent, opened and clicked for one Mailing the flow sends."""

    name: str
    sent: int
    opened: int
    clicked: int

    @property
    def open_rate(self) -> float:
        """Contacts who opened ÷ e-mails sent (0 when none was sent)."""
        return _rate(self.opened, self.sent)

    @property
    def click_rate(self) -> float:
        """Contacts who clicked ÷ e-mails sent (0 when none was sent)."""
        return _rate(self.clicked, self.sent)


@dataclass(frozen=True, slots=True)
class Report:
    """A flow's figures over a period (``since``/``until`` None = unbounded)."""

    flow: str
    title: str | None
    state: str
    version: int
    since: date | None
    until: date | None
    generated_at: datetime
    participants: int
    succeeded: int
    statuses: Mapping[str, int]
    entries: tuple[tuple[date, int], ...]
    steps: tuple[StepFigures, ...]
    mailings: tuple[MailingFigures, ...]
    document: Mapping[str, Any] = field(default_factory=dict)
    """The current version's Flow document (for the diagram)."""

    @property
    def success_rate(self) -> float:
        """Participations that succeeded ÷ participations entered (spec §7)."""
        return _rate(self.succeeded, self.participants)


def build_report(
    store: Store,
    flow: str,
    *,
    now: datetime,
    since: date | None = None,
    until: date | None = None,
) -> Report:
    """The report of ``flow`` for the days ``since`` … ``until`` (both included).

    Raises :class:`~flowctl.errors.NotFound` for an unknown flow and
    :class:`~flowctl.errors.UsageError` when ``since`` is after ``until``.
    """
    if since is not None and until is not None and since > until:
        raise UsageError(f"--since {since} is after --until {until}", hint="swap them, or drop one")
    row = store.flow(flow)
    if row is None:
        raise unknown_flow(store, flow)
    # Waiting but due counts as active (spec §8), as `flowctl participants` shows it;
    # a pause holds everything, so in a paused flow they still wait.
    due_by = None if row.state == PAUSED else now
    statuses = store.participant_counts(flow, since=since, until=until, due_by=due_by)
    daily = store.daily_counts(flow)
    doc = store.document(FLOW, flow)
    programs = _programs(store, flow)
    counts = store.step_counts(flow, since=since, until=until)
    pending = _pending(store, flow)
    open_ended = until is None or until >= now.date()
    entries = _entries(daily, since, until, now.date())
    if since is None and until is None:
        participants = sum(statuses.values())
    else:
        participants = sum(n for _, n in entries)
    return Report(
        flow=flow,
        title=row.title,
        state=row.state,
        version=row.version,
        since=since,
        until=until,
        generated_at=now,
        participants=participants,
        # With a period: of the participations entered in it, as `participants` counts.
        succeeded=(
            counts.get((NO_STEP, "succeeded"), 0)
            if since is None and until is None
            else store.succeeded_count(flow, since=since, until=until)
        ),
        statuses={s: statuses.get(s, 0) for s in STATUSES},
        entries=entries,
        steps=_steps(programs, counts, pending if open_ended else {}, pending),
        mailings=_mailings(
            programs,
            store.sent_messages_count(flow, channel="email", since=since, until=until),
            daily,
            since,
            until,
        ),
        document=doc.document if doc is not None else {},
    )


def _pending(store: Store, flow: str) -> Counter[str]:
    """Live (active and waiting) participants per step, now (one grouped query)."""
    return Counter(store.live_step_counts(flow))


def _programs(store: Store, flow: str) -> list[Program]:
    """Every stored version compiled, newest first (step ids and mailings of old ones too)."""
    out = []
    for doc in reversed(store.versions(FLOW, flow)):
        try:
            out.append(compile_flow(doc.document, doc.version))
        except InvalidValue:
            continue  # an old version a newer flowctl no longer reads: its counters stay
    return out


def _entries(
    daily: Mapping[tuple[str, str], int], since: date | None, until: date | None, today: date
) -> tuple[tuple[date, int], ...]:
    per_day: dict[date, int] = {}
    for (day, metric), n in daily.items():
        if metric == "entered":
            when = date.fromisoformat(day)
            if (since is None or when >= since) and (until is None or when <= until):
                per_day[when] = per_day.get(when, 0) + n
    if not per_day and since is None:
        return ()
    first = since if since is not None else min(per_day)
    last = until if until is not None else max([today, *per_day])
    days = (last - first).days + 1
    return tuple(
        (first + timedelta(d), per_day.get(first + timedelta(d), 0)) for d in range(max(days, 0))
    )


def _steps(
    programs: list[Program],
    counts: Mapping[tuple[str, str], int],
    pending: Mapping[str, int],
    pending_now: Mapping[str, int],
) -> tuple[StepFigures, ...]:
    outcomes: dict[str, dict[str, int]] = {}
    for (sid, outcome), n in counts.items():
        if sid != NO_STEP:
            outcomes.setdefault(sid, {})[outcome] = n
    out: list[StepFigures] = []
    current = programs[0].steps if programs else {}
    known: dict[str, Step] = dict(current)
    for program in programs[1:]:
        for sid, old in program.steps.items():
            known.setdefault(sid, old)
    for sid in [*current, *(s for s in outcomes if s not in current)]:
        step = known.get(sid)
        done = dict(sorted(outcomes.get(sid, {}).items(), key=lambda kv: -kv[1]))
        if step is not None and step.type in BRANCHING:
            done = _branch_order(step, done)
        out.append(
            StepFigures(
                id=sid,
                type=step.type if step else "?",
                title=step.title if step else None,
                depth=_depth(sid, known),
                outcomes=done,
                pending=pending_now.get(sid, 0),
                reached=sum(done.values()) + pending.get(sid, 0),
                removed=sid not in current,
            )
        )
    return tuple(out)


def _branch_order(step: Step, done: dict[str, int]) -> dict[str, int]:
    """A branching step's outcomes in the order of its branches, each present (zero too)."""
    names = [label for label, _ in step.branches]
    ordered = {name: done.get(name, 0) for name in names}
    ordered.update({k: v for k, v in done.items() if k not in ordered})
    return ordered


def _depth(sid: str, steps: Mapping[str, Step]) -> int:
    depth, step = 0, steps.get(sid)
    while step is not None and step.parent is not None and depth < 100:
        depth += 1
        step = steps.get(step.parent)
    return depth


def _mailings(
    programs: list[Program],
    outbox: Mapping[str, Mapping[str, int]],
    daily: Mapping[tuple[str, str], int],
    since: date | None,
    until: date | None,
) -> tuple[MailingFigures, ...]:
    order: dict[str, None] = {}  # the mailings the flow sends, in step order
    for program in programs:
        for step in program.steps.values():
            if isinstance(step, ActionStep) and step.type == "send_email":
                order.setdefault(str(step.params.get("mailing")), None)
    sent: Counter[str] = Counter()
    for name, by_status in outbox.items():
        sent[name] = by_status.get("sent", 0)
        order.setdefault(name, None)
    engaged: Counter[str] = Counter()
    for (day, metric), n in daily.items():
        kind, _, name = metric.partition(":")
        if kind in (OPENED, CLICKED) and name and _within(day, since, until):
            engaged[f"{kind}:{name}"] += n
            order.setdefault(name, None)
    return tuple(
        MailingFigures(name, sent[name], engaged[f"{OPENED}:{name}"], engaged[f"{CLICKED}:{name}"])
        for name in order
    )


def _within(day: str, since: date | None, until: date | None) -> bool:
    return (since is None or day >= since.isoformat()) and (
        until is None or day <= until.isoformat()
    )


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
