"""The renderers on hand-made figures: long periods, empty ones, bars and sparklines."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

from rich.console import Console

from flowctl.report import MailingFigures, Report, StepFigures, report_json
from flowctl.report.html import render_html
from flowctl.report.terminal import bar, render, sparkline
from flowctl.report.text import bucket, percent

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def report(days: int = 400, **more: object) -> Report:
    first = date(2025, 1, 1)
    fields: dict[str, object] = {
        "flow": "long",
        "title": "A <long> & loud flow",
        "state": "active",
        "version": 3,
        "since": None,
        "until": None,
        "generated_at": NOW,
        "participants": days,
        "succeeded": days // 4,
        "statuses": {"waiting": 10, "completed": days - 10},
        "entries": tuple((first + timedelta(d), 1 + d % 7) for d in range(days)),
        "steps": (
            StepFigures("mail", "send_email", None, 0, {"sent": days}, 0, days),
            StepFigures("pick", "split", None, 0, {"x": 300, "y": days - 300}, 0, days),
            StepFigures("gone", "?", None, 0, {"done": 5}, 0, 5, removed=True),
        ),
        "mailings": (MailingFigures("hello", days, days // 2, 0),),
    }
    fields.update(more)
    return Report(**fields)  # type: ignore[arg-type]


def test_bucket_and_sparkline() -> None:
    assert bucket([1, 2, 3, 4, 5], 2) == ([6, 9], 3)
    assert bucket([1, 2], 10) == ([1, 2], 1)
    assert sparkline([0, 1, 4, 8]) == "▁▂▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert percent(1 / 3) == "33.3%"


def test_bar_shades_what_is_still_in_the_step() -> None:
    step = StepFigures("wait", "delay", None, 0, {"waited": 50}, 50, 100)
    text = bar(step, 100, width=10).plain
    assert text == "█████▒▒▒▒▒"
    assert bar(StepFigures("s", "delay", None, 0, {}, 0, 0), 100).plain == ""


def test_terminal_buckets_a_long_period_and_marks_removed_steps() -> None:
    out = io.StringIO()
    render(report(), Console(file=out, width=120))
    text = out.getvalue()
    assert "one mark per 7 days" in text
    assert "gone (removed)" in text
    assert "hello" in text and "50.0%" in text


def test_html_escapes_and_buckets() -> None:
    page = render_html(report())
    assert "A &lt;long&gt; &amp; loud flow" in page and "<long>" not in page
    assert len(re.findall(r'<rect class="bar"', page)) == 100  # 400 days in columns of 4
    assert "one column per 4 days" in page


def test_json_of_a_period() -> None:
    data = report_json(report(10, since=date(2025, 1, 1), until=date(2025, 1, 10)))
    assert data["period"] == {"since": "2025-01-01", "until": "2025-01-10"}
    assert len(data["entries"]) == 10
    assert data["steps"]["gone"]["type"] == "?"
