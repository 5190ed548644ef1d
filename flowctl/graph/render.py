"""Render a flow graph as Mermaid or Graphviz DOT text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowctl.engine.program import Program
from flowctl.graph.model import build_graph

_MERMAID = {
    "trigger": ('>"', '"]'),
    "filter": ('{{"', '"}}'),
    "action": ('["', '"]'),
    "delay": ('(["', '"])'),
    "wait": ('{{"', '"}}'),
    "decision": ('{"', '"}'),
    "split": ('{"', '"}'),
    "goto": ('["', '"]'),
    "end": ('(("', '"))'),
    "done": ('(("', '"))'),
    "note": ('["', '"]'),
}
_DOT = {
    "trigger": "invhouse",
    "filter": "hexagon",
    "action": "box",
    "delay": "box",
    "wait": "hexagon",
    "decision": "diamond",
    "split": "diamond",
    "goto": "cds",
    "end": "doublecircle",
    "done": "doublecircle",
    "note": "note",
}


def to_mermaid(flow: Program | Mapping[str, Any]) -> str:
    """A Mermaid ``flowchart TD`` of the flow: triggers, steps, labelled branches, gotos."""
    graph = build_graph(flow)
    lines = ["flowchart TD"]
    for node in graph.nodes:
        left, right = _MERMAID[node.shape]
        lines.append(f"    {node.id}{left}{_mermaid_text(node.label)}{right}")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f"|{_mermaid_text(edge.label)}|" if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("|", "#124;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", "<br/>")
    )


def to_dot(flow: Program | Mapping[str, Any]) -> str:
    """A Graphviz ``digraph`` of the flow, same content as :func:`to_mermaid`."""
    graph = build_graph(flow)
    lines = [
        f"digraph {_dot_text(graph.name)} {{",
        "    rankdir=TB;",
        '    node [fontname="Helvetica", fontsize=10];',
        '    edge [fontname="Helvetica", fontsize=9];',
    ]
    for node in graph.nodes:
        lines.append(f"    {node.id} [label={_dot_text(node.label)}, shape={_DOT[node.shape]}];")
    for edge in graph.edges:
        attrs = []
        if edge.label:
            attrs.append(f"label={_dot_text(edge.label)}")
        if edge.dashed:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {edge.source} -> {edge.target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
