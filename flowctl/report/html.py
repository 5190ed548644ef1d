"""A :class:`~flowctl.report.figures.Report` as one self-contained HTML page.

The page holds everything it shows (CSS inline, charts as inline SVG and
HTML bars, no script, no font or image to fetch), so it opens offline, can
be mailed or attached to a ticket, and weighs a few dozen kilobytes:

- the headline figures and participants by status;
- the flow diagram with each step's figures (:mod:`~flowctl.report.diagram`);
- the funnel: a bar per step, finished and pending parts;
- entries over time: a column per day (per week over long periods);
- outcomes per branch and split variant;
- mailings: sent, opened, clicked and the rates.

Charts are drawn here rather than with a plotting library: bars and one
column chart are a few lines each, where an inlined plotting library adds
megabytes of JavaScript to every page.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from flowctl.report.diagram import diagram
from flowctl.report.figures import Report
from flowctl.report.style import CSS, PALETTE
from flowctl.report.text import bucket, percent, period_text
from flowctl.timeutil import isoformat

COLUMNS = 120
"""At most this many columns in the entries chart (days are summed into buckets)."""


def render_html(report: Report) -> str:
    """The whole page, as text (UTF-8 when written)."""
    name = escape(report.flow)
    title = escape(report.title or report.flow)
    sections = [
        _section("Overview", _overview(report)),
        _section("Flow", diagram(report), "Each box: participants who reached the step."),
        _section("Funnel", _funnel(report), "Per step, in document order."),
        _section("Entries over time", _entries(report)),
        _section("Outcomes per branch and split variant", _branches(report)),
        _section("Mailings", _mailings(report)),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{name}: flow report</title><style>{CSS}</style></head>"
        f"<body><main><header><p>flowctl report · flow/{name}</p><h1>{title}</h1>"
        f"<p>state {escape(report.state)} · version {report.version} · "
        f"period {escape(period_text(report))} · made {escape(isoformat(report.generated_at))}"
        f"</p></header>{''.join(sections)}</main></body></html>\n"
    )


def _section(heading: str, body: str, note: str = "") -> str:
    slug = heading.lower().split()[0]
    text = f'<p class="note">{escape(note)}</p>' if note else ""
    return f'<section id="{slug}"><h2>{escape(heading)}</h2>{body}{text}</section>'


def _overview(report: Report) -> str:
    kpis = [
        (f"{report.participants:,}", "participants"),
        (f"{report.succeeded:,}", "succeeded"),
        (percent(report.success_rate), "success rate"),
    ]
    cards = "".join(f'<div class="kpi"><b>{v}</b><span>{k}</span></div>' for v, k in kpis)
    total = sum(report.statuses.values())
    statuses = [(s, n) for s, n in report.statuses.items()]
    return (
        f'<div class="kpis">{cards}</div><h3>Participants by status, now</h3>'
        f"{_stack(statuses, total)}{_legend(statuses)}"
    )


def _funnel(report: Report) -> str:
    if not report.steps:
        return '<p class="note">No step has run yet.</p>'
    top = max(s.reached for s in report.steps) or 1
    rows = []
    for step in report.steps:
        done = sum(step.outcomes.values())
        now = step.reached - done  # zero for a period that ended before today
        segs = [("finished", done, "var(--ok)"), ("in the step now", now, "")]
        label = step.id + (" (removed)" if step.removed else "")
        value = f"{step.reached:,}" + (f" · {now:,} now" if now else "")
        rows.append(_row(label, segs, top, value, sub=step.depth > 0))
    legend = _legend([("finished", 0), ("in the step now", 0)], ["var(--ok)", ""], counts=False)
    return f'<div class="rows">{"".join(rows)}</div>{legend}'


def _entries(report: Report) -> str:
    days = report.entries
    if not days:
        return '<p class="note">No one has entered yet.</p>'
    values, per = bucket([n for _, n in days], COLUMNS)
    top = max(values) or 1
    width = len(values)
    bars = []
    for i, value in enumerate(values):
        first = days[i * per][0]
        last = days[min(len(days), (i + 1) * per) - 1][0]
        when = first.isoformat() if per == 1 else f"{first.isoformat()} … {last.isoformat()}"
        height = value / top * 96
        bars.append(
            f'<rect class="bar" x="{i + 0.12:.2f}" y="{100 - height:.2f}" width="0.76" '
            f'height="{height:.2f}"><title>{when}: {value:,}</title></rect>'
        )
    grid = '<line x1="0" y1="100" x2="{w}" y2="100"/><line x1="0" y1="52" x2="{w}" y2="52"/>'
    svg = (
        f'<svg viewBox="0 0 {width} 100" preserveAspectRatio="none" role="img" '
        f'aria-label="entries per {"day" if per == 1 else f"{per} days"}">'
        f"{grid.format(w=width)}{''.join(bars)}</svg>"
    )
    total = sum(n for _, n in days)
    peak_day, peak = max(days, key=lambda d: d[1])
    unit = "day" if per == 1 else f"{per} days"
    return (
        f'<div class="chart">{svg}<div class="axis"><span>{days[0][0].isoformat()}</span>'
        f"<span>{days[-1][0].isoformat()}</span></div></div>"
        f'<p class="note">{total:,} entries in {len(days)} days, one column per {unit}; '
        f"the highest {'day' if per == 1 else 'column'}: {top:,}; peak day {peak:,} on "
        f"{peak_day.isoformat()}. The line marks half the highest column.</p>"
    )


def _branches(report: Report) -> str:
    branching = [s for s in report.steps if s.branching]
    if not branching:
        return '<p class="note">This flow has no decision, split or wait_until.</p>'
    parts = []
    for step in branching:
        outcomes = list(step.outcomes.items())
        total = sum(n for _, n in outcomes)
        rows = "".join(
            _row(
                name,
                [(name, n, PALETTE[i % len(PALETTE)])],
                total or 1,
                f"{n:,} · {percent(n / total if total else 0.0)}",
            )
            for i, (name, n) in enumerate(outcomes)
        )
        parts.append(
            f"<h3>{escape(step.id)} <small>({escape(step.type)}, {total:,} took a branch)"
            f'</small></h3><div class="rows">{rows}</div>'
        )
    return "".join(parts)


def _mailings(report: Report) -> str:
    if not report.mailings:
        return '<p class="note">This flow sends no mailing.</p>'
    head = "<tr><th>mailing</th><th>sent</th><th>opened</th><th>clicked</th></tr>"
    body = "".join(
        f"<tr><td>{escape(m.name)}</td><td>{m.sent:,}</td>"
        f"<td>{m.opened:,} ({percent(m.open_rate)})</td>"
        f"<td>{m.clicked:,} ({percent(m.click_rate)})</td></tr>"
        for m in report.mailings
    )
    rows = []
    for m in report.mailings:
        rows.append(
            _row(
                f"{m.name}: opened",
                [("opened", m.opened, PALETTE[0])],
                m.sent or 1,
                percent(m.open_rate),
            )
        )
        rows.append(
            _row(
                f"{m.name}: clicked",
                [("clicked", m.clicked, PALETTE[1])],
                m.sent or 1,
                percent(m.click_rate),
                sub=True,
            )
        )
    return (
        f'<div class="scroll"><table>{head}{body}</table></div>'
        f'<h3>Open and click rates</h3><div class="rows">{"".join(rows)}</div>'
        '<p class="note">Rates: contacts who opened (clicked) ÷ e-mails sent.</p>'
    )


def _row(
    label: str, segs: Sequence[tuple[str, int, str]], whole: int, value: str, *, sub: bool = False
) -> str:
    return (
        f'<div class="row{" sub" if sub else ""}"><span class="label">{escape(label)}</span>'
        f'{_track(segs, whole)}<span class="value">{escape(value)}</span></div>'
    )


def _track(segs: Sequence[tuple[str, int, str]], whole: int) -> str:
    parts = []
    for name, n, colour in segs:
        if n <= 0:
            continue
        css = f"background:{colour};" if colour else ""
        kind = "seg" if colour else "seg pending"
        share = min(100.0, n / whole * 100) if whole else 0.0
        parts.append(
            f'<div class="{kind}" style="{css}width:{share:.2f}%" '
            f'title="{escape(name)}: {n:,}"></div>'
        )
    return f'<div class="track">{"".join(parts)}</div>'


def _stack(parts: Sequence[tuple[str, int]], whole: int) -> str:
    segs = [(name, n, PALETTE[i % len(PALETTE)]) for i, (name, n) in enumerate(parts)]
    return _track(segs, whole or 1)


def _legend(
    parts: Sequence[tuple[str, int]], colours: Sequence[str] = (), *, counts: bool = True
) -> str:
    items = []
    for i, (name, n) in enumerate(parts):
        colour = colours[i] if i < len(colours) else PALETTE[i % len(PALETTE)]
        swatch = (
            f'<i style="background:{colour}"></i>'
            if colour
            else '<i class="seg pending" style="display:inline-block"></i>'
        )
        items.append(f"<span>{swatch}{escape(name)}{f' {n:,}' if counts else ''}</span>")
    return f'<div class="legend">{"".join(items)}</div>'
