"""Small text helpers: reading ``--since``/``--until``; percentages, the period and
bucketing, which both renderers share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from flowctl.errors import InvalidValue, UsageError
from flowctl.report.figures import Report
from flowctl.timeutil import parse_duration, parse_instant


def parse_day(text: str, now: datetime, option: str = "--since") -> date:
    """A ``--since``/``--until`` value: a date, an instant (its day) or a duration back."""
    try:
        return (now - abs(parse_duration(text))).date()
    except InvalidValue:
        pass
    try:
        return parse_instant(text, now.tzinfo or UTC).date()
    except InvalidValue as exc:
        raise UsageError(
            f"{option} '{text}' is neither a date, an instant nor a duration",
            hint="write 2026-03-02, 2026-03-02T09:00:00+01:00 or 7d (seven days ago)",
        ) from exc


def percent(rate: float) -> str:
    """A fraction as a percentage with one decimal (``0.125`` → ``12.5%``)."""
    return f"{rate * 100:.1f}%"


def period_text(report: Report) -> str:
    """``2026-03-02 … 2026-03-08``, open ends as ``start``/``today``; or ``all time``."""
    if report.since is None and report.until is None:
        return "all time"
    since = report.since.isoformat() if report.since else "start"
    until = report.until.isoformat() if report.until else "today"
    return f"{since} … {until}"


def bucket(values: Sequence[int], width: int) -> tuple[list[int], int]:
    """``values`` summed in runs of equal length so that at most ``width`` remain,
    and the run length."""
    per = max(1, -(-len(values) // width))
    return [sum(values[i : i + per]) for i in range(0, len(values), per)], per
