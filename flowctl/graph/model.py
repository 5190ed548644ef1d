"""A flow as a graph of labelled nodes and edges, before any output format."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowctl.engine.program import (
    DecisionStep,
    DelayStep,
    GotoStep,
    Program,
    Step,
    WaitUntilStep,
    compile_flow,
)
from flowctl.timeutil import format_duration

MAX_LABEL = 60


@dataclass(frozen=True)
class Node:
    """``shape``: trigger, filter, action, delay, wait, decision, split, goto, end, done, note."""

    id: str
    label: str
    shape: str


@dataclass(frozen=True)
class Edge:
    """An arrow; ``dashed`` for goto jumps."""

    source: str
    target: str
    label: str | None = None
    dashed: bool = False


@dataclass
class Graph:
    """Nodes and edges of one flow, in a stable order."""

    name: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


_SHAPES = {"delay": "delay", "wait_until": "wait", "decision": "decision", "split": "split"}


def build_graph(flow: Program | Mapping[str, Any]) -> Graph:
    """The graph of a compiled program or of a (validated) Flow document."""
    program = flow if isinstance(flow, Program) else compile_flow(flow)
    graph = Graph(program.name)
    ids = {sid: f"s{i}" for i, sid in enumerate(program.steps)}
    done_used = False

    def target(sid: str | None) -> str:
        nonlocal done_used
        if sid is None:
            done_used = True
            return "done"
        return ids[sid]

    entry = "filter" if program.filter is not None else target(program.first)
    for i, trig in enumerate(program.triggers):
        params = " ".join(f"{k}={v}" for k, v in trig.params.items())
        label = f"trigger: {trig.type} {params}".strip()
        if trig.filter is not None:
            label += f"\nif {summarize(trig.filter.source)}"
        graph.nodes.append(Node(f"t{i}", label, "trigger"))
        graph.edges.append(Edge(f"t{i}", entry))
    if program.filter is not None:
        graph.nodes.append(Node("filter", f"filter: {summarize(program.filter.source)}", "filter"))
        graph.edges.append(Edge("filter", target(program.first), "admitted"))
    for sid, step in program.steps.items():
        graph.nodes.append(Node(ids[sid], _step_label(step), _shape(step)))
        if isinstance(step, GotoStep):
            graph.edges.append(Edge(ids[sid], target(step.target), "goto", dashed=True))
        elif step.type == "end":
            continue
        elif step.branches:
            for label, first in step.branches:
                graph.edges.append(Edge(ids[sid], target(first), label))
        else:
            graph.edges.append(Edge(ids[sid], target(step.next)))
    if done_used:
        graph.nodes.append(Node("done", "completed", "done"))
    if program.success is not None:
        success = program.success
        text = (
            f"success: {summarize(success.when.source)}\n→ {'stop' if success.stop else 'continue'}"
        )
        if success.transfer_to:
            text += f", transfer to {success.transfer_to}"
        graph.nodes.append(Node("success", text, "note"))
    if program.exit_when is not None:
        graph.nodes.append(
            Node("exit", f"exit when: {summarize(program.exit_when.source)}", "note")
        )
    return graph


def _shape(step: Step) -> str:
    if step.type == "end":
        return "end"
    if step.type == "goto":
        return "goto"
    return _SHAPES.get(step.type, "action")


def _step_label(step: Step) -> str:
    head = f"{step.id}\n{step.type}"
    detail = step_detail(step)
    return f"{head}: {detail}" if detail else head


def step_detail(step: Step) -> str:
    """What a step does in a few words: its wait, its condition or its params."""
    if isinstance(step, DelayStep):
        if step.duration is not None:
            return format_duration(step.duration)
        if step.until is not None:
            return f"until {step.until:%H:%M}"
        return f"until {step.until_date}"
    if isinstance(step, DecisionStep):
        return summarize(step.condition.source)
    if isinstance(step, WaitUntilStep):
        return f"{summarize(step.condition.source)} (max {format_duration(step.timeout)})"
    params = getattr(step, "params", {})
    return _cut(" ".join(f"{k}={v}" for k, v in params.items() if isinstance(v, str | int)))


def summarize(cond: Any) -> str:
    """A short human reading of a condition mapping."""
    return _cut(_summary(cond))


def _summary(cond: Any) -> str:
    if not isinstance(cond, Mapping):
        return str(cond)
    if "all" in cond:
        return " and ".join(_summary(c) for c in cond["all"])
    if "any" in cond:
        return " or ".join(f"({_summary(c)})" for c in cond["any"])
    if "not" in cond:
        return f"not ({_summary(cond['not'])})"
    if "event" in cond:  # before field: an event test's field is a param
        rest = " ".join(f"{k}={v}" for k, v in cond.items() if k != "event")
        return f"event {cond['event']} {rest}".strip()
    if "field" in cond:
        op = next((k for k in cond if k != "field"), "?")
        return f"{cond['field']} {op} {cond.get(op)}"
    return " ".join(f"{k} {v}" for k, v in cond.items())


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"
