"""The flow diagram of the HTML report: HTML boxes and CSS, drawn from the flow itself.

The flow's nesting is its layout: a step list is a column of boxes joined
by arrows; a decision, split or wait_until opens its branches side by side
(stacked on a narrow screen); a ``goto`` links to its target. Each box
carries the step's figures (reached, pending, outcomes), so the diagram is
also the funnel at a glance. Pure Python and CSS: it needs neither
Graphviz nor JavaScript, and text stays readable on a phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from flowctl.engine.program import Program, Step, compile_flow
from flowctl.errors import InvalidValue
from flowctl.graph.model import step_detail, summarize
from flowctl.report.figures import Report, StepFigures
from flowctl.report.style import PALETTE

CONTROL = frozenset({"delay", "wait_until", "decision", "split", "goto"})


def diagram(report: Report) -> str:
    """The ``<ol class="flow">`` of the report's flow (empty text without a document)."""
    spec = report.document.get("spec") if report.document else None
    if not isinstance(spec, Mapping):
        return ""
    try:
        program: Program | None = compile_flow(report.document, report.version)
    except InvalidValue:
        program = None
    drawer = _Drawer({s.id: s for s in report.steps}, program)
    items = [_entry_box(spec)]
    if spec.get("filter") is not None:
        items.append(_li("filter", "Only if", escape(summarize(spec["filter"]))))
    items += drawer.steps(spec.get("steps"))
    items.append(_li("end", "completed", ""))
    notes = []
    success = spec.get("success")
    if isinstance(success, Mapping) and "when" in success:
        then = success.get("on_success", "stop")
        more = f", then to {success['transfer_to']}" if success.get("transfer_to") else ""
        notes.append(f"<b>Success</b> when {escape(summarize(success['when']))} → {then}{more}")
    if spec.get("exit_when") is not None:
        notes.append(f"<b>Exit</b> when {escape(summarize(spec['exit_when']))}")
    checked = (
        f'<p class="note">{" · ".join(notes)} (checked before every step)</p>' if notes else ""
    )
    return f'<ol class="flow">{"".join(items)}</ol>{checked}'


def _entry_box(spec: Mapping[str, Any]) -> str:
    texts = []
    for trigger in spec.get("triggers") or []:
        if isinstance(trigger, Mapping):
            params = " ".join(f"{k}={v}" for k, v in trigger.items() if k not in ("type", "filter"))
            extra = f" if {summarize(trigger['filter'])}" if trigger.get("filter") else ""
            texts.append(f"{trigger.get('type')} {params}".strip() + extra)
    return _li("trigger", "Enters on", escape(" · or · ".join(texts)))


def _li(kind: str, head: str, detail: str) -> str:
    body = f'<div class="detail">{detail}</div>' if detail else ""
    return f'<li><div class="box {kind}"><span class="id">{escape(head)}</span>{body}</div></li>'


class _Drawer:
    """Turns step lists into boxes, looking figures up by step id."""

    def __init__(self, figures: Mapping[str, StepFigures], program: Program | None) -> None:
        self.figures = figures
        self.program = program

    def steps(self, items: Any) -> list[str]:
        if not isinstance(items, list):
            return []
        return [self.step(item) for item in items if isinstance(item, Mapping)]

    def step(self, src: Mapping[str, Any]) -> str:
        sid = str(src.get("id"))
        kind = str(src.get("type"))
        fig = self.figures.get(sid)
        compiled: Step | None = self.program.steps.get(sid) if self.program else None
        detail = step_detail(compiled) if compiled is not None else ""
        if kind == "goto":
            target = escape(str(src.get("step")))
            detail = f'go to <a href="#step-{target}">{target}</a>'
        else:
            detail = escape(detail)
        title = f" — {escape(str(src['title']))}" if src.get("title") else ""
        css = "end" if kind == "end" else "control" if kind in CONTROL else "action"
        box = (
            f'<div class="box {css}"><span class="id">{escape(sid)}</span>'
            f'<span class="kind">{escape(kind)}{title}</span>'
            f'<div class="detail">{detail}</div>{_numbers(fig)}</div>'
        )
        branches = self.branches(src, kind, fig)
        return f'<li id="step-{escape(sid)}">{box}{branches}</li>'

    def branches(self, src: Mapping[str, Any], kind: str, fig: StepFigures | None) -> str:
        arms: list[tuple[str, Any]] = []
        weights: dict[str, Any] = {}
        if kind == "decision":
            arms = [("then", src.get("then")), ("else", src.get("else"))]
        elif kind == "wait_until":
            arms = [("met", None), ("timeout", src.get("on_timeout"))]
        elif kind == "split":
            arms = [
                (f"{v.get('name')}", v.get("steps"))
                for v in src.get("variants") or []
                if isinstance(v, Mapping)
            ]
            weights = {
                str(v.get("name")): v.get("weight")
                for v in src.get("variants") or []
                if isinstance(v, Mapping)
            }
        if not arms:
            return ""
        out = []
        for i, (name, items) in enumerate(arms):
            colour = PALETTE[i % len(PALETTE)]
            count = fig.outcomes.get(name, 0) if fig else 0
            weight = f" ({weights.get(name)}%)" if kind == "split" else ""
            inner = self.steps(items)
            body = (
                f'<ol class="flow">{"".join(inner)}</ol>'
                if inner
                else '<div class="empty">goes on below</div>'
            )
            out.append(
                f'<div class="branch" style="border-top-color:{colour}">'
                f'<div class="label">{escape(name)}{weight} · {count:,}</div>{body}</div>'
            )
        return f'<div class="branches">{"".join(out)}</div>'


def _numbers(fig: StepFigures | None) -> str:
    if fig is None:
        return '<div class="nums">not reached</div>'
    pending = f" · <b>{fig.pending:,}</b> in it now" if fig.pending else ""
    chips = "".join(
        f'<span class="chip" style="background:{PALETTE[i % len(PALETTE)]}">'
        f"{escape(name)} {n:,}</span>"
        for i, (name, n) in enumerate(fig.outcomes.items())
        if not fig.branching
    )
    return f'<div class="nums">reached <b>{fig.reached:,}</b>{pending} {chips}</div>'
