"""Wall-clock arithmetic for the engine: local days, times of day, send windows.

Every function is pure and DST-correct: a local time is built from a local
date and a time of day with ``zoneinfo``, never by adding hours to a local
datetime, so "09:00 tomorrow" is 09:00 on the wall clock across a DST change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


def local_moment(day: date, at: time, zone: tzinfo) -> datetime:
    """The instant of wall-clock ``at`` on ``day`` in ``zone``, normalised to UTC.

    A time that does not exist (the hour skipped in spring) resolves to the
    same wall-clock reading in the earlier offset, i.e. one hour later after
    the change; an ambiguous time (autumn) takes its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def add_span(moment: datetime, span: timedelta, zone: tzinfo) -> datetime:
    """``moment`` plus ``span``, counting each whole day as a calendar day in ``zone``.

    ``5d`` after 09:00 is 09:00 five days later on the wall clock, also across
    a DST change; the part of ``span`` under a day is elapsed time.
    """
    sign = -1 if span < timedelta(0) else 1
    whole = abs(span).days
    if zone is UTC or whole == 0:
        return _elapsed(moment, span)
    rest = abs(span) - timedelta(days=whole)
    local = moment.astimezone(zone)
    shifted = local_moment(local.date() + timedelta(days=sign * whole), local.time(), zone)
    return _elapsed(shifted, rest if sign > 0 else -rest)


def _elapsed(moment: datetime, span: timedelta) -> datetime:
    """``moment`` plus ``span`` of elapsed time, in ``moment``'s zone (Python adds to
    a zone's wall clock: 00:00 + 3h on the night clocks go forward would be 2 h later)."""
    return (moment.astimezone(UTC) + span).astimezone(moment.tzinfo)


def next_time_of_day(
    now: datetime, at: time, days: frozenset[int] | None, zone: tzinfo
) -> datetime:
    """The first instant >= ``now`` whose wall clock in ``zone`` reads ``at`` on one of ``days``.

    ``days`` holds weekday indexes (0 = Monday); ``None`` means every day. A
    time equal to ``now`` is returned as is (it does not wait a day).
    """
    today = now.astimezone(zone).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if days is not None and day.weekday() not in days:
            continue
        candidate = local_moment(day, at, zone)
        if candidate >= now:
            return candidate
    raise ValueError("no weekday allowed")  # unreachable: compile refuses empty days


@dataclass(frozen=True, slots=True)
class SendWindow:
    """When messages may go out: on ``days`` (weekday indexes) from ``start`` to ``end``."""

    days: frozenset[int]
    start: time
    end: time

    def opens_at(self, now: datetime, zone: tzinfo) -> datetime:
        """``now`` when inside the window, else the instant it next opens."""
        local = now.astimezone(zone)
        if local.weekday() in self.days and self.start <= local.time() < self.end:
            return now
        today = local.date()
        for offset in range(8):
            day = today + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            candidate = local_moment(day, self.start, zone)
            if candidate >= now:
                return candidate
        raise ValueError("no weekday allowed")  # unreachable: compile refuses empty days
