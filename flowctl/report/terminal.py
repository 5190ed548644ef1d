"""A :class:`~flowctl.report.figures.Report` in the terminal, with rich.

The headline figures, participants by status, entries per day as a
sparkline, the per-step funnel with bars drawn next to the numbers (the
finished part solid, the pending part shaded), and the mailings with their
open and click rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from flowctl.report.figures import Report, StepFigures
from flowctl.report.text import bucket, percent, period_text

SPARKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 60
"""At most this many columns for the entries sparkline (days are summed into buckets)."""
BAR_WIDTH = 24


def render(report: Report, console: Console) -> None:
    """Print the report on ``console``."""
    console.print(summary(report))
    console.print()
    console.print(entries(report))
    console.print()
    console.print(funnel(report))
    if report.mailings:
        console.print()
        console.print(mailings(report))


def summary(report: Report) -> RenderableType:
    """Name, state, period; participants, succeeded, success rate; statuses."""
    title = f" — {escape(report.title)}" if report.title else ""
    head = Text.from_markup(f"[bold]flow/{escape(report.flow)}[/bold]{title}")
    facts = Text.from_markup(
        f"[dim]state[/dim] {report.state}  [dim]version[/dim] {report.version}  "
        f"[dim]period[/dim] {period_text(report)}"
    )
    figures = Text.from_markup(
        f"Participants [bold]{report.participants:,}[/bold]   "
        f"Succeeded [bold]{report.succeeded:,}[/bold]   "
        f"Success rate [bold green]{percent(report.success_rate)}[/bold green]"
    )
    statuses = Text.from_markup(
        "[dim]now:[/dim] "
        + "  ".join(f"{status} [bold]{n:,}[/bold]" for status, n in report.statuses.items())
    )
    return Group(head, facts, Text(), figures, statuses)


def entries(report: Report) -> RenderableType:
    """Entries per day as a sparkline with its first and last day."""
    days = report.entries
    if not days:
        return Text("Entries per day: none yet", style="dim")
    total = sum(n for _, n in days)
    peak_day, peak = max(days, key=lambda d: d[1])
    values, per = bucket([n for _, n in days], SPARK_WIDTH)
    unit = "day" if per == 1 else f"{per} days"
    head = Text.from_markup(
        f"[bold]Entries[/bold] {total:,} in {len(days)} days, "
        f"peak {peak:,} on {peak_day.isoformat()} [dim](one mark per {unit})[/dim]"
    )
    wide = max(1, min(4, SPARK_WIDTH // len(values)))  # a few days: a wider mark each
    line = Text("".join(mark * wide for mark in sparkline(values)), style="cyan")
    return Group(head, line, Text(axis(days[0][0], days[-1][0], len(line)), style="dim"))


def funnel(report: Report) -> RenderableType:
    """The steps in document order: reached, outcomes, pending now, and a bar."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title_justify="left")
    table.title = "[bold]Funnel[/bold] [dim](per step; pending = in the step now)[/dim]"
    for column, justify in (
        ("STEP", "left"),
        ("TYPE", "left"),
        ("REACHED", "right"),
        ("OUTCOMES", "left"),
        ("PENDING", "right"),
        ("", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    top = max((s.reached for s in report.steps), default=0)
    for step in report.steps:
        name = "  " * step.depth + step.id + (" (removed)" if step.removed else "")
        table.add_row(
            escape(name),
            step.type,
            f"{step.reached:,}",
            escape(outcome_text(step)),
            f"{step.pending:,}" if step.pending else "-",
            bar(step, top),
        )
    if not report.steps:
        return Text("No steps have run yet.", style="dim")
    return table


def mailings(report: Report) -> RenderableType:
    """Sent, opened, clicked and the rates of each mailing."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title_justify="left")
    table.title = "[bold]Mailings[/bold]"
    for column in ("MAILING", "SENT", "OPENED", "OPEN RATE", "CLICKED", "CLICK RATE"):
        table.add_column(column, justify="left" if column == "MAILING" else "right")
    for m in report.mailings:
        table.add_row(
            escape(m.name),
            f"{m.sent:,}",
            f"{m.opened:,}",
            percent(m.open_rate),
            f"{m.clicked:,}",
            percent(m.click_rate),
        )
    return table


def outcome_text(step: StepFigures) -> str:
    """``sent 280 · suppressed 20``; a dash when nothing finished."""
    parts = [f"{name} {n:,}" for name, n in step.outcomes.items()]
    return " · ".join(parts) if parts else "-"


def bar(step: StepFigures, top: int, width: int = BAR_WIDTH) -> Text:
    """A bar as long as ``reached`` (relative to ``top``): finished solid, in the step shaded."""
    if top <= 0 or step.reached <= 0:
        return Text("")
    full = max(1, round(step.reached / top * width))
    now = step.reached - sum(step.outcomes.values())  # zero for a period that ended earlier
    waiting = min(full, round(now / top * width)) if now > 0 else 0
    text = Text("█" * (full - waiting), style="green")
    text.append("▒" * waiting, style="yellow")
    return text


def sparkline(values: Sequence[int]) -> str:
    """One block character per value, scaled to the largest (zero is the lowest mark)."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    last = len(SPARKS) - 1
    return "".join(SPARKS[0] if v <= 0 else SPARKS[max(1, round(v / top * last))] for v in values)


def axis(first: date, last: date, width: int) -> str:
    """The first day under the line's start and the last day under its end."""
    left, right = first.isoformat(), last.isoformat()
    if first == last:
        return left
    gap = max(1, width - len(left) - len(right))
    return f"{left}{' ' * gap}{right}"
