"""Rendering simulations, forecasts and flow-test results for people (rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table

from flowctl.engine import Program
from flowctl.graph.model import step_detail
from flowctl.simulate import ForecastResult, SimulationResult, TestCaseResult


def print_simulation(console: Console, result: SimulationResult, program: Program) -> None:
    """Who entered, the timeline (local time, step, outcome, why) and the effects."""
    zone = program.zone
    if not result.enrolled:
        console.print(f"[bold]{result.flow}[/]: not entered ([yellow]{result.reason}[/])")
        return
    status = result.status or "?"
    won = " [green]succeeded[/]" if result.succeeded else ""
    console.print(f"[bold]{result.flow}[/]: {status}{won}")
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("time", "step", "type", "outcome"):
        table.add_column(column, no_wrap=True)
    table.add_column("why")
    for entry in result.timeline:
        table.add_row(
            entry.at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M"),
            entry.step or "—",
            entry.type,
            _outcome(entry.outcome),
            entry.detail or _why(program, entry.step, entry.outcome),
        )
    console.print(table)
    if result.effects:
        console.print("[bold]effects[/]")
        for effect in result.effects:
            params = ", ".join(f"{k}={v}" for k, v in effect.params.items())
            local = effect.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            console.print(f"  {local}  {effect.step}  {effect.type}  {params}", highlight=False)
            preview = result.previews.get(effect.key)
            if preview and preview.get("subject"):
                console.print(f"      subject: {preview['subject']}", highlight=False)
    if result.reason and result.status not in ("completed", "succeeded"):
        console.print(f"reason: {result.reason}")


def print_forecast(console: Console, result: ForecastResult) -> None:
    """Entered, succeeded, and each step's reach and outcomes."""
    rate = result.succeeded / result.enrolled if result.enrolled else 0.0
    console.print(
        f"[bold]{result.flow}[/]: {result.participants:,} contacts, "
        f"{result.enrolled:,} enter, {result.succeeded:,} succeed ({rate:.1%} of entered)"
    )
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column, justify in (("step", "left"), ("reached", "right"), ("outcomes", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for step_id, count in result.steps.items():
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(count.outcomes.items()))
        table.add_row(step_id, f"{count.reached:,}", outcomes)
    console.print(table)
    if result.not_enrolled:
        why = ", ".join(f"{k} {v:,}" for k, v in sorted(result.not_enrolled.items()))
        console.print(f"not entered: {why}")


def print_test_results(console: Console, cases: Sequence[tuple[str, TestCaseResult]]) -> None:
    """PASS/FAIL per case, with what differs and a unified diff."""
    for file, case in cases:
        mark = "[green]PASS[/]" if case.passed else "[red]FAIL[/]"
        console.print(f"{mark} {case.name} [dim]({file})[/]")
        for failure in case.failures:
            console.print(f"    {failure}", highlight=False, markup=False)
        if case.diff:
            for line in case.diff.splitlines():
                style = "red" if line.startswith("-") else "green" if line.startswith("+") else ""
                console.print(f"    {line}", style=style, highlight=False, markup=False)
    passed = sum(1 for _, c in cases if c.passed)
    console.print(f"{passed} passed, {len(cases) - passed} failed", highlight=False)


def junit_xml(cases: Sequence[tuple[str, TestCaseResult]]) -> str:
    """JUnit XML: one testsuite per test file, one testcase per FlowTest."""
    root = ElementTree.Element("testsuites", name="flowctl test")
    suites: dict[str, ElementTree.Element] = {}
    for file, case in cases:
        suite = suites.get(file)
        if suite is None:
            suite = suites[file] = ElementTree.SubElement(root, "testsuite", name=file)
        element = ElementTree.SubElement(suite, "testcase", name=case.name, classname=file)
        if not case.passed:
            failure = ElementTree.SubElement(
                element, "failure", message="; ".join(case.failures)[:500]
            )
            failure.text = case.diff or "\n".join(case.failures)
    for element in [root, *suites.values()]:
        members = [c for f, c in cases if element is root or suites[f] is element]
        element.set("tests", str(len(members)))
        element.set("failures", str(sum(1 for c in members if not c.passed)))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def flow_test_json(cases: Sequence[tuple[str, TestCaseResult]]) -> list[dict[str, Any]]:
    """JSON-ready results: ``file`` plus each case's own keys."""
    return [{"file": file, **case.to_dict()} for file, case in cases]


def _why(program: Program, step_id: str | None, outcome: str) -> str:
    """For branching and waiting steps, the condition or wait behind the outcome."""
    step = program.steps.get(step_id or "")
    if step is None or step.type not in ("decision", "wait_until", "delay"):
        return ""
    detail = step_detail(step)
    if step.type == "decision":
        return f"{detail}: {'yes' if outcome == 'then' else 'no'}"
    return detail


def _outcome(outcome: str) -> str:
    colour = {"suppressed": "yellow", "timeout": "yellow", "met": "green", "sent": "green"}
    style = colour.get(outcome)
    return f"[{style}]{outcome}[/]" if style else outcome
