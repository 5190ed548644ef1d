"""loop-without-wait: a ``goto`` cycle with no ``delay`` or ``wait_until`` on it.

A participant in such a loop would run it without ever pausing (until the
1,000-step limit ends the participation).

Fails::

    steps:
      - {id: nudge, type: send_email, mailing: nudge}
      - {id: again, type: goto, step: nudge}

Passes::

    steps:
      - {id: nudge, type: send_email, mailing: nudge}
      - {id: wait-a-week, type: delay, duration: 7d}
      - {id: again, type: goto, step: nudge}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import WAITING_TYPES, flow_steps, step_lists
from flowctl.load import Document

ID = "loop-without-wait"
LEVEL = "error"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    graph: dict[str, list[str]] = {}
    _link(doc.spec.get("steps", []), None, graph)
    waiting = {s["id"] for s, _ in flow_steps(doc.spec) if s.get("type") in WAITING_TYPES}
    for step, pointer in flow_steps(doc.spec):
        if step.get("type") != "goto":
            continue
        cycle = _path(graph, step.get("step"), step["id"], waiting)
        if cycle:
            yield Finding(
                f"{pointer}/step",
                f"this goto loops back through {' → '.join(cycle)} with no delay or "
                "wait_until on the way; add a delay to the loop",
            )


def _link(steps: list[Any], after: str | None, graph: dict[str, list[str]]) -> None:
    """Record each step's possible next steps; ``after`` follows the list's end."""
    for index, step in enumerate(steps):
        following = steps[index + 1]["id"] if index + 1 < len(steps) else after
        kind = step.get("type")
        if kind == "goto":
            successors: list[str | None] = [step.get("step")]
        elif kind == "end":
            successors = []
        else:
            successors = []
            for nested, _ in step_lists(step, ""):
                _link(nested, following, graph)
                successors.append(nested[0]["id"] if nested else following)
            if kind not in ("decision", "split") or (kind == "decision" and "else" not in step):
                successors.append(following)
        graph[step["id"]] = [s for s in successors if s]


def _path(
    graph: dict[str, list[str]], start: Any, goal: str, waiting: set[str]
) -> list[str] | None:
    """A path from ``start`` to ``goal`` through steps that do not wait, if any."""
    if not isinstance(start, str) or start in waiting or start not in graph:
        return None
    came_from: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal:
            path = [node]
            while came_from[path[-1]] is not None:
                path.append(came_from[path[-1]])  # type: ignore[arg-type]
            return list(reversed(path))
        for nxt in graph.get(node, []):
            if nxt not in came_from and nxt not in waiting:
                came_from[nxt] = node
                queue.append(nxt)
    return None
