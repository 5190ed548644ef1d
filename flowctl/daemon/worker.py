"""One pass of the daemon's work at an instant: events, entries, due steps.

Work is done in batches. Each batch claims its rows, runs the engine for
them and commits everything they caused in the same store transaction (see
:mod:`flowctl.daemon.effects`), so a crash loses nothing and repeats
nothing. A pass handles, in order: events kept while a flow was paused
(for flows active again), new events (entries and wake-ups of waiting
participants), then participants whose due time has come. Events that
actions emit are stored like any other and handled by the next pass, so
``flowctl daemon --once`` loops passes until nothing is left, at most
:data:`MAX_PASSES` times (a chain of flows triggering flows is bounded).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import partial

from flowctl.daemon.effects import ENTRY_REQUEST, absorb
from flowctl.engine import (
    WAITING,
    Context,
    Event,
    ParticipantState,
    Program,
    Result,
    advance,
    compile_flow,
    consider_entry,
    contact_zone,
    matching_triggers,
)
from flowctl.engine.program import WAITING_TYPES
from flowctl.engine.state import Limits
from flowctl.gcpause import paused_gc
from flowctl.simulate.content import ContentIndex, unsent
from flowctl.store import ACTIVE, CONTENT_KINDS, DEACTIVATED, FLOW, PAUSED, FlowRow, Store
from flowctl.store.codec import counter_day
from flowctl.store.records import Batch, NewEvent, StoredEvent
from flowctl.templating import render

log = logging.getLogger("flowctl.daemon")

MAX_PASSES = 100
"""Passes ``--once`` makes at one instant; each handles what the previous one caused."""
MAX_CATCH_UP = 100
"""Waits one participant is run through in one batch when catching up; a pass
after it goes on (a ``goto`` loop with a short delay, after a long downtime)."""
SENDS = frozenset({"send_email", "send_sms"})

ENGAGEMENT = {"email_opened": "opened", "email_link_clicked": "clicked"}
"""Events counted per flow as daily metrics ``opened:MAILING`` / ``clicked:MAILING``."""


@dataclass
class Stats:
    """What a pass (or a run) did."""

    events: int = 0
    entered: int = 0
    steps: int = 0
    messages: int = 0
    delivered: int = 0
    failed: int = 0
    purged: int = 0
    batches: int = 0

    def add(self, other: Stats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def busy(self) -> bool:
        return bool(self.events or self.steps or self.entered)


class Worker:
    """Runs flows against a store. ``stop`` (set from a signal handler) ends work
    after the current batch."""

    def __init__(self, store: Store, *, batch_size: int = 500, limits: Limits | None = None):
        self.store = store
        self.batch_size = batch_size
        self.limits = limits
        self.stop = False
        self._programs: dict[tuple[str, int], Program | None] = {}

    def run_pass(self, now: datetime) -> Stats:
        """Handle held events, new events and due participants at ``now``."""
        flows = {f.name: f for f in self.store.flows(counts=False)}
        docs = self.store.documents()
        content = ContentIndex.from_documents(d.document for d in docs if d.kind in CONTENT_KINDS)
        at = self._pass(now, flows, content)
        for flow in flows.values():
            if flow.state in (ACTIVE, DEACTIVATED):  # paused no more: release its events
                self._drain(partial(self._events, at, flow.name))
        self._drain(partial(self._events, at, None))
        runnable = [f.name for f in flows.values() if f.state in (ACTIVE, DEACTIVATED)]
        seen: set[str] = set()
        self._drain(partial(self._due, at, runnable, seen))
        return at.stats

    def _pass(self, now: datetime, flows: Mapping[str, FlowRow], content: ContentIndex) -> _Pass:
        reacting = reacting_types(
            p
            for f in flows.values()
            if f.state in (ACTIVE, PAUSED) and (p := self.program(f.name, f.version)) is not None
        )
        versions = [
            p
            for f in flows.values()
            for v in range(1, f.version + 1)
            if (p := self.program(f.name, v)) is not None
        ]
        woken = any(_event_driven(p) for p in versions)
        reads = any(_reads_events(p) for p in versions)
        pauses: dict[str, list[tuple[datetime, datetime]]] = {}
        for pause in self.store.pauses():
            if pause.ended_at is not None:
                pauses.setdefault(pause.flow, []).append((pause.started_at, pause.ended_at))
        heard = None if woken else reacting
        return _Pass(now, flows, content, Stats(), reacting, heard, reads, pauses)

    def _commit(self, work: _Work, at: _Pass) -> None:
        """Write the batch; the events it emits that no flow hears are recorded as handled."""
        batch, heard = work.batch, at.heard
        if heard is not None:
            batch.events = [e if e.type in heard else _handled(e) for e in batch.events]
        self.store.commit_batch(batch, at.now)

    def _drain(self, batch: Callable[[], int]) -> None:
        while not self.stop:
            with paused_gc():
                if batch() < self.batch_size:
                    return

    def _events(self, at: _Pass, held_for: str | None) -> int:
        started = time.perf_counter()
        with self.store.transaction():
            if held_for is None:
                events = self.store.pending_events(at.now, self.batch_size)
            else:
                events = self.store.deferred_events(held_for, self.batch_size)
            if not events:
                return 0
            work = _Work(self, at, {e.cid for e in events}, events)
            for event in events:
                work.event(event, at.flows, held_for)
            self._commit(work, at)
        at.stats.events += len(events)
        work.finish(at.stats, "events", len(events), started)
        return len(events)

    def _due(self, at: _Pass, flows: list[str], seen: set[str]) -> int:
        started = time.perf_counter()
        with self.store.transaction():
            due = self.store.due_participants(at.now, flows, self.batch_size)
            fresh = [(cid, s) for cid, s in due if s.id not in seen]
            if not fresh:
                return 0
            work = _Work(self, at, {cid for cid, _ in fresh}, due=fresh)
            for cid, state in fresh:
                seen.add(state.id)
                work.advance(cid, state, new=False)
            self._commit(work, at)
        work.finish(at.stats, "due", len(fresh), started)
        return len(due)

    def program(self, name: str, version: int) -> Program | None:
        """The compiled flow version (cached); None when it is no longer stored."""
        key = (name, version)
        if key not in self._programs:
            doc = self.store.document(FLOW, name, version)
            self._programs[key] = None if doc is None else compile_flow(doc.document, version)
        return self._programs[key]


@dataclass(frozen=True)
class _Pass:
    """What a pass knows throughout: the instant, the flows and content as it began,
    and what it counts. ``reacting``: the event types the flows' triggers react to;
    ``heard``: those any flow may react to (None: every type, for a flow version
    some event can wake a participant of); ``reads_events``: whether a flow's
    condition tests the contact's events; ``pauses``: each flow's ended pauses, in
    order."""

    now: datetime
    flows: Mapping[str, FlowRow]
    content: ContentIndex
    stats: Stats
    reacting: frozenset[str]
    heard: frozenset[str] | None
    reads_events: bool
    pauses: Mapping[str, Sequence[tuple[datetime, datetime]]]


class _Work:
    """One batch: what it read up front, and the :class:`Batch` it writes.

    Contacts, their events and the messages sent to them are read only for
    contacts something may happen to: those with a live participation, or
    whose event a flow (active or paused) has a trigger for.
    """

    def __init__(
        self,
        worker: Worker,
        at: _Pass,
        cids: set[int],
        events: Sequence[StoredEvent] = (),
        due: Sequence[tuple[int, ParticipantState]] = (),
    ):
        store = worker.store
        self.worker = worker
        self.now = now = at.now
        self.content = at.content
        self.pauses = at.pauses
        if due:  # a due participant needs only its own state
            self.parts: dict[int, list[ParticipantState]] = {}
            for cid, state in due:
                self.parts.setdefault(cid, []).append(state)
        else:
            self.parts = store.participations(cids)
        live = {cid for cid, parts in self.parts.items() if any(p.live for p in parts)}
        reacting = at.reacting
        wanted = {e.cid for e in events if e.type in reacting} | live if events else set(cids)
        since = min(
            [p.since for cid in wanted for p in self.parts.get(cid, ())]
            + [e.occurred_at for e in events if e.cid in wanted],
            default=now,
        )
        self.contacts = {cid: row.data for cid, row in store.contacts_by_cid(wanted).items()}
        # Events are read for the conditions that test them, and to count engagement.
        reading = wanted if at.reads_events else {e.cid for e in events if e.type in ENGAGEMENT}
        self.seen = store.contact_events(reading, since) if reading else {}
        self.sent = store.sent_messages(wanted)
        self.batch = Batch()
        self.engaged: set[tuple[int, str]] = set()
        self.entered = 0
        self.steps = 0

    def event(
        self, stored: StoredEvent, flows: Mapping[str, FlowRow], held_for: str | None
    ) -> None:
        """Wake the contact's participants with the event, and enter it where a trigger matches."""
        cid = stored.cid
        event = Event(stored.type, stored.occurred_at, stored.data, stored.id)
        target = stored.data.get("flow") if stored.type == ENTRY_REQUEST else None
        # As of when it occurred; one that came during a pause, as of its end (_offer).
        at = min(stored.occurred_at, self.now)
        if cid in self.contacts:
            for flow in flows.values():
                if (held_for and flow.name != held_for) or (target and flow.name != target):
                    continue
                self._offer(cid, event, at, stored.seq, flow, direct=target is not None)
        if held_for is None:
            self.batch.processed.append(stored.seq)
            if stored.type in ENGAGEMENT and cid in self.contacts:
                self._engagement(stored)
        else:
            self.batch.released.append((held_for, stored.seq))

    def _engagement(self, stored: StoredEvent) -> None:
        """Count a contact's first open (click) of a mailing for each flow whose
        participation of that contact ran a step sending it (for ``flowctl report``)."""
        mailing, cid, kind = stored.data.get("mailing"), stored.cid, stored.type
        metric = f"{ENGAGEMENT[kind]}:{mailing}"
        earlier = any(
            e.type == kind and e.data.get("mailing") == mailing and e.at < stored.occurred_at
            for e in self.seen.get(cid, ())
        )
        if not mailing or earlier or (cid, metric) in self.engaged:
            return
        self.engaged.add((cid, metric))
        day = counter_day(stored.occurred_at)
        flows = set()
        for p in self.parts.get(cid, ()):
            program = self.worker.program(p.flow, p.version)
            steps = program.steps.values() if program else ()
            sent = [s.id for s in steps if getattr(s, "params", {}).get("mailing") == mailing]
            if any(sid in p.visits for sid in sent):
                flows.add(p.flow)
        for flow in sorted(flows):
            self.batch.count(self.batch.daily_counts, (flow, day, metric))

    def _offer(
        self, cid: int, event: Event, at: datetime, seq: int, flow: FlowRow, *, direct: bool
    ) -> None:
        program = self.worker.program(flow.name, flow.version)
        if program is None:
            return
        mine = [p for p in self.parts.get(cid, ()) if p.flow == flow.name]
        live = [p for p in mine if p.live]
        if flow.state == PAUSED:
            if live or direct or matching_triggers(program, event):
                self.batch.deferred.append((flow.name, seq))
            return
        if flow.state not in (ACTIVE, DEACTIVATED):
            return
        at = _unpaused(at, self.pauses.get(flow.name, ()))
        for state in live:
            if _wakes(program, state):
                self.advance(cid, state, new=False, until=at)
        if flow.state != ACTIVE:
            return
        decision = consider_entry(
            program,
            event,
            self.contacts[cid],
            at,
            activated_at=flow.activated_at,
            prior=[p for p in self.parts.get(cid, ()) if p.flow == flow.name],
            direct=direct,
        )
        if decision.state is not None:
            self.entered += 1
            self.advance(cid, decision.state, new=True, until=at)

    def advance(
        self, cid: int, state: ParticipantState, *, new: bool, until: datetime | None = None
    ) -> None:
        """Run one participant up to ``until`` (now when None) and add what it did to the
        batch. Each wait that ends by then ends as of its due time, and what follows runs
        from there, as a daemon running all along would have run it."""
        contact = self.contacts.get(cid)
        program = self.worker.program(state.flow, state.version)
        if contact is None or program is None:
            return
        until = self.now if until is None else min(until, self.now)
        sent = self.sent.setdefault(cid, [])
        events = self.seen.setdefault(cid, [])
        results: list[Result] = []
        pauses = self.pauses.get(state.flow, ())
        current, at = state, min(_unpaused(_next_move(state, until), pauses), until)
        for _ in range(MAX_CATCH_UP):
            context = Context(
                limits=self.worker.limits,
                once_per_contact=self.content.once_per_contact,
                sent_mailings=frozenset(name for name, _ in sent if name),
                sent_at=tuple(when for _, when in sent),
                render=render,
            )
            result = advance(program, current, contact, events, at, context)
            # Recorded as it runs: a send that fails (not renderable for the contact)
            # is known before the next step, for which it counts for no cap.
            before = None if new and not results else current
            failed = absorb(
                self.batch, cid, before, result, self.content, self._send_at(program, result)
            )
            results.append(result)
            contact, current = result.contact, result.state
            events.extend(unsent(result, failed).emitted)
            sent.extend(
                (e.params.get("mailing") or e.params.get("sms"), e.at)
                for e in result.effects
                if e.type in SENDS and (e.step or "-") not in failed
            )
            # On to the end of the next wait, if it comes by ``until``; and to ``until``
            # itself for a wait that events may end (they are read up to then).
            if at >= until or current.status != WAITING or current.due is None:
                break
            if current.due > until and not _wakes(program, current):
                break
            after = min(_unpaused(_next_move(current, until), pauses), until)
            if _wakes(program, current):  # an event on the way is read at its instant
                after = min(_unpaused(_next_event(events, at, after), pauses), after)
            if after <= at:  # no later move to make now: the next pass goes on
                break
            at = after
        result = _joined(results)
        if not new and result.state == state and not (result.history or result.effects):
            return  # woken for nothing: no write
        if new:
            self.batch.entered.append((cid, result.state))
        else:
            self.batch.advanced.append(result.state)
        self._remember(cid, state, result.state)
        if result.contact is not self.contacts[cid]:
            self.contacts[cid] = result.contact
            self.batch.contacts[cid] = result.contact
        self.steps += sum(1 for h in result.history if h.step is not None)

    def _send_at(self, program: Program, result: Result) -> datetime | None:
        """When the e-mails and SMS of ``result`` may go: the opening of the send window
        when they were caught up outside it, else None (now)."""
        window = program.send_window
        if window is None or not any(e.type in SENDS for e in result.effects):
            return None
        opens = window.opens_at(self.now, contact_zone(program, result.contact))
        return opens if opens > self.now else None

    def _remember(self, cid: int, before: ParticipantState, after: ParticipantState) -> None:
        parts = self.parts.setdefault(cid, [])
        for i, p in enumerate(parts):
            if p.id == before.id:
                parts[i] = after
                return
        parts.append(after)

    def finish(self, stats: Stats, kind: str, claimed: int, started: float) -> None:
        stats.entered += self.entered
        stats.steps += self.steps
        stats.messages += len(self.batch.messages)
        stats.batches += 1
        log.info(
            "batch kind=%s claimed=%d entered=%d steps=%d messages=%d events_out=%d ms=%.1f",
            kind,
            claimed,
            self.entered,
            self.steps,
            len(self.batch.messages),
            len(self.batch.events),
            (time.perf_counter() - started) * 1000,
        )


_PLAIN_WAITS = frozenset({"delay", "send_window", "frequency_cap"})


def _wakes(program: Program, state: ParticipantState) -> bool:
    """Whether an event can change anything for a participant before its due time:
    it waits for a condition, or the flow has success criteria or ``exit_when``."""
    if state.status != WAITING or state.hold not in _PLAIN_WAITS:
        return True
    return program.success is not None or program.exit_when is not None


def _reads_events(program: Program) -> bool:
    """Whether a condition of this flow version tests the contact's events."""
    conditions = [
        program.filter,
        program.exit_when,
        program.success.when if program.success else None,
        *(t.filter for t in program.triggers),
        *(getattr(s, "condition", None) for s in program.steps.values()),
    ]
    return any(c is not None and c.uses_events for c in conditions)


def _next_move(state: ParticipantState, until: datetime) -> datetime:
    """When a participant moves next on the way to ``until``: the end of its wait if
    that comes first, else ``until``; never before it entered or began to wait."""
    at = until
    if state.status == WAITING and state.due is not None and state.due < until:
        at = state.due
    return max(at, state.wait_since or state.entered_at)


def _next_event(events: Sequence[Event], after: datetime, until: datetime) -> datetime:
    """The instant of the first of ``events`` after ``after``, if before ``until``; else
    ``until``."""
    return min((e.at for e in events if after < e.at < until), default=until)


def _unpaused(at: datetime, pauses: Sequence[tuple[datetime, datetime]]) -> datetime:
    """``at``, or the end of the pause it falls in: a paused flow runs nothing, and
    what fell due or was triggered during a pause runs as of its end."""
    for start, end in pauses:
        if start <= at < end:
            at = end
    return at


def _joined(results: Sequence[Result]) -> Result:
    """Successive advances of one participant as one."""
    if len(results) == 1:
        return results[0]
    last = results[-1]
    return Result(
        last.state,
        last.contact,
        tuple(e for r in results for e in r.effects),
        tuple(e for r in results for e in r.emitted),
        tuple(h for r in results for h in r.history),
    )


def _handled(e: NewEvent) -> NewEvent:
    """The event recorded as processed already (``dataclasses.replace``, quicker)."""
    return NewEvent(e.cid, e.type, e.occurred_at, e.data, e.id, handled=True)


def _event_driven(program: Program) -> bool:
    """Whether some event may wake a participant of this flow version (see :func:`_wakes`):
    it has success criteria or ``exit_when``, or a step that waits on a condition."""
    if program.success is not None or program.exit_when is not None:
        return True
    return any(
        s.type in WAITING_TYPES and s.type not in _PLAIN_WAITS for s in program.steps.values()
    )


def reacting_types(programs: Iterable[Program]) -> frozenset[str]:
    """The event types a trigger of these flows reacts to (custom events by name too)."""
    types = {ENTRY_REQUEST, *ENGAGEMENT}
    for program in programs:
        for trigger in program.triggers:
            types.add(trigger.type)
            if trigger.type == "event" and "name" in trigger.params:
                types.add(str(trigger.params["name"]))
    return frozenset(types)
