"""Durations, instants, times of day and weekdays as the flow format writes them (spec §2)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flowctl.errors import InvalidValue

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT = re.compile(r"(\d+)([smhdw])")
_SHORT_WHOLE = re.compile(r"(?:\d+[smhdw])+")
_ISO = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

DURATION_PATTERN = (
    r"^((\d+[smhdw])+|P(?=\d|T\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?)$"
)
"""The shape of a duration, shared with the JSON Schema."""


def parse_duration(text: str) -> timedelta:
    """Parse ``90m``, ``1d12h``, ``2w`` or an ISO 8601 duration such as ``PT2H30M``.

    A leading ``+`` or ``-`` gives a signed duration (used by relative instants).
    Raises :class:`InvalidValue` for anything else, bare numbers included.
    """
    if not isinstance(text, str):
        raise InvalidValue(f"a duration must be a string such as '3d' or 'PT2H', not {text!r}")
    body = text.strip()
    sign = 1
    if body[:1] in "+-" and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body and _SHORT_WHOLE.fullmatch(body):
        seconds = sum(int(n) * _UNITS[u] for n, u in _SHORT.findall(body))
        return _bounded(text, seconds) * sign
    match = _ISO.fullmatch(body)
    if match and body not in ("P", "PT") and not body.endswith("T"):
        parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
        total = parts["w"] * 604800 + parts["d"] * 86400 + parts["h"] * 3600
        return _bounded(text, total + parts["m"] * 60 + parts["s"]) * sign
    raise InvalidValue(
        f"'{text}' is not a duration; write it as 90m, 3d, 1d12h, 2w or ISO 8601 (P3D, PT2H30M)"
    )


_LONGEST = timedelta(days=36525)
"""The longest duration taken: 100 years (longer ones overflow the calendar soon)."""


def _bounded(text: str, seconds: float) -> timedelta:
    if seconds > _LONGEST.total_seconds():
        raise InvalidValue(f"'{text}' is longer than 100 years; no flow waits that long")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest ``1d2h``-style text for a duration (``0s`` for zero)."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")


def get_zone(name: str) -> tzinfo:
    """The IANA zone of that name; raises :class:`InvalidValue` for an unknown one."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidValue(
            f"'{name}' is not an IANA time zone; use a name such as Europe/Oslo or UTC"
        ) from exc


def parse_instant(text: str | datetime | date, zone: tzinfo = UTC) -> datetime:
    """Parse an ISO 8601 instant with an offset or ``Z``.

    A date alone means 00:00 of that day in ``zone``. A date-time without an
    offset is read in ``zone`` as well. Returns an aware datetime.
    """
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=zone)
    if isinstance(text, date):
        return datetime.combine(text, time(), tzinfo=zone)
    if not isinstance(text, str):
        raise InvalidValue(f"{text!r} is not an instant; write 2026-11-22T09:00:00+01:00")
    body = text.strip()
    try:
        if _DATE.fullmatch(body):
            return datetime.combine(date.fromisoformat(body), time(), tzinfo=zone)
        value = datetime.fromisoformat(body.replace("z", "Z"))
    except ValueError as exc:
        raise InvalidValue(
            f"'{text}' is not an instant; write 2026-11-22T09:00:00+01:00, "
            "2026-11-22T08:00:00Z or a date 2026-11-22"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=zone)


def parse_time_of_day(text: str) -> time:
    """Parse ``"09:00"`` (24-hour clock)."""
    match = _TIME_OF_DAY.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        raise InvalidValue(f"'{text}' is not a time of day; write it as HH:MM, e.g. \"09:00\"")
    return time(int(match.group(1)), int(match.group(2)))


def weekday_index(name: str) -> int:
    """``mon`` → 0 … ``sun`` → 6."""
    try:
        return WEEKDAYS.index(name.lower())
    except ValueError as exc:
        raise InvalidValue(f"'{name}' is not a weekday; use one of {', '.join(WEEKDAYS)}") from exc


def isoformat(moment: datetime) -> str:
    """An instant as ISO 8601 with its offset, seconds precision (``Z`` never used)."""
    return moment.isoformat(timespec="seconds")
