"""Simulation and daemon agree (architecture principle 1: one engine, many drivers).

Every FlowTest case of ``flows/tests`` is run twice: through ``flowctl
simulate`` on its virtual clock, and through the daemon for real: the
contact imported, the flow and its content applied and activated before the
start, each event sent with ``flowctl event send --at`` at its instant, and
``flowctl daemon --once`` run at every event instant and every due time the
store holds, until the participation ends or the horizon passes. The
participant's path (its history's steps, oldest first), status and success
must be the simulation's, and so must each step's instant and outcome and
the messages queued.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from flowctl.engine import FINAL_STATUSES, WAITING, Event, compile_flow, matching_triggers
from flowctl.simulate.inputs import parse_events, parse_start
from flowctl.timeutil import parse_duration, parse_instant
from tests.conftest import FLOWS
from tests.daemon.conftest import Flowctl, iso

HORIZON = "60d"
SETUP_LEAD = timedelta(hours=1)
"""The flow is applied and activated this long before the case's start."""
MAX_RUNS = 200
CHANNELS = {"send_email": "email", "send_sms": "sms", "webhook": "webhook"}
"""The simulation's effects that become outbox messages, and their channel."""


@dataclass(frozen=True)
class Case:
    """One FlowTest document: its flow and content files, contact, start and events."""

    name: str
    flow_file: Path
    content_file: Path | None
    contact: dict[str, Any]
    start: str
    events: list[dict[str, Any]]


def _cases() -> Iterator[Case]:
    yaml = YAML(typ="safe", pure=True)
    for test_file in sorted((FLOWS / "tests").glob("*.yaml")):
        with test_file.open(encoding="utf-8") as stream:
            documents = list(yaml.load_all(stream))
        for doc in documents:
            if not isinstance(doc, dict) or doc.get("kind") != "FlowTest":
                continue
            spec = doc["spec"]
            flow_file = (test_file.parent / spec["flow"]).resolve()
            content = FLOWS / "content" / flow_file.name
            yield Case(
                name=doc["metadata"]["name"],
                flow_file=flow_file,
                content_file=content if content.is_file() else None,
                contact=dict(spec["contact"]),
                start=str(spec["start"]),
                events=list(spec.get("events") or []),
            )


CASES = list(_cases())


def test_every_example_flow_has_cases() -> None:
    flows = {c.flow_file.stem for c in CASES}
    assert flows == {p.stem for p in FLOWS.glob("*.yaml")}
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_daemon_follows_the_simulated_path(flowctl: Flowctl, case: Case) -> None:
    program = compile_flow(_flow_document(case.flow_file))
    start = parse_start(case.start, program.zone)
    events = parse_events(case.events, start, program.zone)
    ref = f"id:{case.contact['id']}"
    if not any(e.at >= start and matching_triggers(program, e) for e in events):
        pytest.skip(
            "no event of the case matches a trigger: simulate then enters the contact at the "
            "start as if the first trigger fired, which only a simulation does"
        )

    simulated = _simulate(flowctl, case, events)

    flowctl.configure('[sms]\ntransport = "outbox"\n')
    flowctl.at(start - SETUP_LEAD)
    flowctl.import_contacts([case.contact])
    files = [case.flow_file] + ([case.content_file] if case.content_file else [])
    flowctl.apply(*files)
    flowctl.activate(program.name)

    _drive(flowctl, program.name, ref, events, start + parse_duration(HORIZON))

    participations = flowctl.participants(program.name)
    mine = sorted(
        (p for p in participations if p["contact"] == case.contact["id"]),
        key=lambda p: p["registered"],
    )
    assert len(mine) <= 1
    history = [
        h
        for h in reversed(flowctl.history(contact=ref, limit="10000"))
        if h["flow"] == program.name and h["step"] is not None
    ]
    status = mine[0]["status"] if mine else None
    succeeded = bool(mine and mine[0]["succeeded"])
    path = [h["step"] for h in history]
    if status == WAITING:
        path.append(mine[0]["current_step"])
    assert {"status": status, "succeeded": succeeded, "path": path} == {
        "status": simulated["status"],
        "succeeded": simulated["succeeded"],
        "path": simulated["path"],
    }

    # the same steps at the same instants with the same outcomes ...
    ran = [(parse_instant(h["at"]), h["step"], h["outcome"]) for h in history]
    timeline = [
        (parse_instant(t["at"]), t["step"], t["outcome"])
        for t in simulated["timeline"]
        if t["step"] is not None and t["outcome"] != "waiting"
    ]
    assert ran == timeline
    # ... and the same messages in the outbox as the simulation's send effects, all sent
    messages = flowctl.messages("--flow", program.name)
    queued = sorted((m["channel"], m["step"], m["content"]) for m in messages)
    sends = sorted(
        (CHANNELS[e["type"]], e["step"], e.get("mailing", e.get("sms")))
        for e in simulated["effects"]
        if e["type"] in CHANNELS
    )
    assert queued == sends
    assert {m["status"] for m in messages} <= {"sent"}


def _drive(flowctl: Flowctl, flow: str, ref: str, events: list[Event], end: datetime) -> None:
    """``daemon --once`` at each event instant and due time, until the participation ends."""
    pending = list(events)
    last: datetime | None = None
    for _ in range(MAX_RUNS):
        due, final = _due(flowctl, flow)
        if final:
            return
        candidates = [t for t in (pending[0].at if pending else None, due) if t is not None]
        if not candidates:
            return
        moment = min(candidates)
        if moment > end:
            return
        assert last is None or moment > last or pending, f"due {moment} did not move on"
        flowctl.at(moment)
        while pending and pending[0].at == moment:
            _send(flowctl, pending.pop(0), ref)
        flowctl.once()
        last = moment
    pytest.fail(f"still running after {MAX_RUNS} daemon runs")


def _due(flowctl: Flowctl, flow: str) -> tuple[datetime | None, bool]:
    """The earliest due time of the flow's waiting participants; True when one has ended."""
    with flowctl.store() as store:
        counts = store.participant_counts(flow)
        live = store.live_participants(flow)
    ended = any(counts.get(status, 0) for status in FINAL_STATUSES)
    dues = [p.due for p in live if p.status == WAITING and p.due is not None]
    return (min(dues) if dues else None), ended


def _send(flowctl: Flowctl, event: Event, ref: str) -> None:
    flowctl.send(event.type, ref, at=event.at, **dict(event.data))


def _simulate(flowctl: Flowctl, case: Case, events: list[Event]) -> dict[str, Any]:
    timeline = [{"type": e.type, "at": iso(e.at), "data": dict(e.data)} for e in events]
    events_file = flowctl.write(f"{case.name}.events.json", json.dumps(timeline))
    args: list[Any] = [
        "simulate",
        case.flow_file,
        "--participant",
        json.dumps(case.contact),
        "--events",
        events_file,
        "--start",
        case.start,
        "--horizon",
        HORIZON,
    ]
    if case.content_file:
        args += ["--content", case.content_file]
    result: dict[str, Any] = flowctl.json(*args)
    return result


def _flow_document(path: Path) -> dict[str, Any]:
    yaml = YAML(typ="safe", pure=True)
    with path.open(encoding="utf-8") as stream:
        docs = [d for d in yaml.load_all(stream) if isinstance(d, dict)]
    (flow,) = [d for d in docs if d.get("kind") == "Flow"]
    return flow
