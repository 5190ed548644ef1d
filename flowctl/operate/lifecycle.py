"""A flow's lifecycle (spec §8): activate, pause, resume, deactivate, delete.

``draft`` → ``active`` ⇄ ``paused`` → ``deactivated`` → ``active`` again.
Activating opens an activation period: only triggers that occur from then
on enter. Activating a paused flow resumes it; asking for the state a flow
is already in changes nothing and says so. Every change needs the
lifecycle right and is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flowctl.engine import CANCELED, WAITING, ParticipantState, cancel, compile_flow
from flowctl.engine.program import ActionStep
from flowctl.errors import NotFound, Refused
from flowctl.operate import rights
from flowctl.operate.lookup import content_refs, require_flow
from flowctl.store import ACTIVE, DEACTIVATED, DRAFT, FLOW, PAUSED, Store
from flowctl.store.codec import counter_day
from flowctl.store.records import Batch


@dataclass(frozen=True)
class Transition:
    """What a lifecycle command did: the state before and after, participants canceled."""

    flow: str
    before: str
    after: str
    canceled: int = 0
    messages_canceled: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.flow,
            "state": self.after,
            "previous_state": self.before,
            "changed": self.changed,
            "canceled": self.canceled,
            "messages_canceled": self.messages_canceled,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Impact:
    """Who a deactivation touches: live participants, and those with a scheduled step."""

    participants: int
    scheduled: int


def activation_problems(store: Store, name: str, *, sms_configured: bool) -> list[str]:
    """Every reason the flow cannot be activated (empty when it can)."""
    refs = sorted(_refs(store, name))
    problems = [
        f"it sends {kind.lower()}/{content}, which is not in the store"
        for kind, content in refs
        if store.document(kind, content) is None
    ]
    if not sms_configured and any(kind == "Sms" for kind, _ in refs):
        problems.append("it sends SMS and no SMS channel is configured ([sms] in flowctl.toml)")
    return problems


def activate(
    store: Store, name: str, *, sms_configured: bool, now: datetime, user: str | None = None
) -> Transition:
    """Start entering participants from triggers occurring from ``now`` on.

    Refused, with every reason listed, when content or a channel is missing.
    """
    who = rights.authorize(store, rights.LIFECYCLE, user)
    before = require_flow(store, name).state
    if before == ACTIVE:
        return Transition(name, before, before)
    problems = activation_problems(store, name, sms_configured=sms_configured)
    if problems:
        reasons = "".join(f"\n  - {p}" for p in problems)
        raise Refused(
            f"flow/{name} cannot be activated:{reasons}",
            hint="apply the missing content or configure the channel, then activate again",
        )
    with store.transaction():
        was = store.set_flow_state(name, ACTIVE, now)
        if was == ACTIVE:  # another command activated it meanwhile
            return Transition(name, was, was)
        rights.audit(store, who, "activate", f"flow/{name}", now, f"was {was}")
    return Transition(name, was, ACTIVE, warnings=tuple(_target_warnings(store, name)))


def pause(store: Store, name: str, *, now: datetime, user: str | None = None) -> Transition:
    """Hold everything of an active flow; triggers are kept for the resume."""
    return _move(store, name, PAUSED, {ACTIVE}, "pause", now, user)


def resume(store: Store, name: str, *, now: datetime, user: str | None = None) -> Transition:
    """Run a paused flow again; what fell due meanwhile runs first."""
    return _move(store, name, ACTIVE, {PAUSED}, "resume", now, user)


def deactivation_impact(store: Store, name: str) -> Impact:
    """Live participants of the flow, and how many of them wait for a scheduled step."""
    require_flow(store, name)
    counts = store.participant_counts(name)
    return Impact(counts.get(ACTIVE, 0) + counts.get(WAITING, 0), counts.get(WAITING, 0))


def deactivate(
    store: Store,
    name: str,
    *,
    cancel_scheduled: bool = False,
    now: datetime,
    user: str | None = None,
) -> Transition:
    """No new participants. Those inside finish, or with ``cancel_scheduled`` end
    ``canceled`` at once with their unsent messages, in the same transaction as
    the state change."""
    who = rights.authorize(store, rights.LIFECYCLE, user)
    before = require_flow(store, name).state
    if before == DRAFT:
        raise Refused(f"flow/{name} is a draft; it was never activated")
    with store.transaction():
        live = store.live_participants(name) if cancel_scheduled else []
        if live:
            store.commit_batch(_canceled(name, live, now), now)
        messages = store.cancel_messages(name, now) if cancel_scheduled else 0
        before = store.set_flow_state(name, DEACTIVATED, now)  # as read under the lock
        if before != DEACTIVATED or live:
            detail = f"was {before}; {len(live)} participants, {messages} messages canceled"
            command = "deactivate --cancel-scheduled" if cancel_scheduled else "deactivate"
            rights.audit(store, who, command, f"flow/{name}", now, detail)
    return Transition(name, before, DEACTIVATED, canceled=len(live), messages_canceled=messages)


def delete(store: Store, kind: str, name: str, *, now: datetime, user: str | None = None) -> None:
    """Delete a flow that has no live participants, or content no running flow uses."""
    right = rights.MANAGE_FLOWS if kind == FLOW else rights.DELETE_CONTENT
    who = rights.authorize(store, right, user)
    ref = f"{kind.lower()}/{name}"
    with store.transaction():  # checked and deleted as one: no daemon enters anyone between
        if kind == FLOW:
            impact = deactivation_impact(store, name)
            if impact.participants:
                raise Refused(
                    f"{ref} has {impact.participants} active participants",
                    hint="wait for them to finish, or `flowctl deactivate "
                    f"{name} --cancel-scheduled` first",
                )
        else:
            users = _flows_using(store, kind, name)
            if users:
                raise Refused(
                    f"{ref} is used by running flows: {', '.join(users)}",
                    hint="deactivate those flows or change them first",
                )
        if not store.delete_document(kind, name):
            raise NotFound(f"there is no {ref} in the store")
        rights.audit(store, who, "delete", ref, now)


def _move(
    store: Store,
    name: str,
    to: str,
    allowed: set[str],
    command: str,
    now: datetime,
    user: str | None,
) -> Transition:
    who = rights.authorize(store, rights.LIFECYCLE, user)
    before = require_flow(store, name).state
    if before == to:
        return Transition(name, before, to)
    if before not in allowed:
        raise Refused(
            f"cannot {command} flow/{name}: it is {before}",
            hint=f"only a flow that is {' or '.join(sorted(allowed))} can be {command}d",
        )
    with store.transaction():
        was = store.set_flow_state(name, to, now)
        if was == to:  # another command moved it meanwhile
            return Transition(name, was, to)
        if was not in allowed:
            raise Refused(f"cannot {command} flow/{name}: it is {was}")
        rights.audit(store, who, command, f"flow/{name}", now, f"was {was}")
    return Transition(name, was, to)


def _canceled(flow: str, live: list[ParticipantState], now: datetime) -> Batch:
    """The participants canceled, counted as the daemon counts an ending: per day, and
    for the step each one was waiting in (the funnel shows it reached, ``canceled``)."""
    batch = Batch(advanced=[cancel(s, now) for s in live])
    day = counter_day(now)
    for state in live:
        batch.count(batch.daily_counts, (flow, day, CANCELED))
        if state.status == WAITING and state.step is not None:  # in it, not yet at it
            batch.count(batch.step_counts, (flow, day, state.step, CANCELED))
    return batch


def _document(store: Store, name: str) -> dict[str, object]:
    doc = store.document(FLOW, name)
    if doc is None:
        require_flow(store, name)
        raise NotFound(f"there is no flow '{name}' in the store")
    return dict(doc.document)


def _refs(store: Store, name: str) -> list[tuple[str, str]]:
    """The Mailings and Sms the flow's current version sends."""
    spec = _document(store, name).get("spec")
    return content_refs(spec.get("steps") if isinstance(spec, dict) else None)


def _target_warnings(store: Store, name: str) -> Iterator[str]:
    """Flows this one enters contacts into that are not in the store or not active: an
    entry into one of those is dropped (one into a paused flow waits for its resume)."""
    program = compile_flow(_document(store, name))
    targets = {
        str(s.params["flow"])
        for s in program.steps.values()
        if isinstance(s, ActionStep) and s.type == "start_flow"
    }
    if program.success and program.success.transfer_to:
        targets.add(program.success.transfer_to)
    for target in sorted(targets):
        row = store.flow(target)
        if row is None:
            yield f"it enters contacts into flow/{target}, which is not in the store"
        elif row.state in (DRAFT, DEACTIVATED):
            yield (
                f"it enters contacts into flow/{target}, which is {row.state}: nobody enters"
                f" there until it is activated"
            )


def _flows_using(store: Store, kind: str, name: str) -> list[str]:
    running = {f.name for f in store.flows() if f.state in (ACTIVE, PAUSED)}
    return [flow for flow in sorted(running) if (kind, name) in _refs(store, flow)]
