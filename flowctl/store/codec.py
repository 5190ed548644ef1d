"""How values are written in SQL rows: instants as fixed-width UTC text, JSON text."""

from __future__ import annotations

import json
import json.encoder
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from flowctl.engine.state import ParticipantState
from flowctl.store.records import ContactRow


def ts(moment: datetime) -> str:
    """An instant as fixed-width UTC text (text order is time order)."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # What isoformat(timespec="microseconds") writes, in half the time.
    return _TS % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond)


_TS: Final = "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00"


def counter_day(moment: datetime) -> str:
    """The (UTC) day a counter counts ``moment`` on, as the counters' ``day`` key."""
    return moment.astimezone(UTC).date().isoformat()


def day_bounds(since: date | None, until: date | None) -> tuple[datetime, datetime]:
    """The instants from the start of (UTC) day ``since`` to the end of ``until``
    (all time on a side left open)."""
    start = datetime.combine(since, time(), UTC) if since else datetime.min.replace(tzinfo=UTC)
    end = (
        datetime.combine(until + timedelta(days=1), time(), UTC)
        if until
        else datetime.max.replace(tzinfo=UTC)
    )
    return start, end


def ts_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else ts(moment)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def instant_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _encoder() -> Callable[[Any], str]:
    """The quickest function that writes what the compact ``JSONEncoder`` below writes.

    ``JSONEncoder.encode`` sets up CPython's C encoder anew on every call,
    which costs more than encoding a participant's data does. Set up once,
    without the check for cycles (the values written here are JSON-shaped
    data, which has none), the C encoder keeps no state between calls, so one
    serves every call and thread. It is used only where it writes exactly what
    the Python encoder writes.
    """
    slow = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode
    make: Any = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return slow
    try:
        chunks = make(None, str, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    except TypeError:  # a Python whose encoder takes other arguments
        return slow
    join = "".join

    def fast(value: Any) -> str:
        return join(chunks(value, 0))

    sample = {"a": [1, 2.5, None, True, 'é\n"<\u2028', {}], "b": datetime(2026, 1, 1, tzinfo=UTC)}
    try:
        return fast if fast(sample) == slow(sample) and fast("x") == slow("x") else slow
    except Exception:
        return slow


dumps: Final = _encoder()
"""Compact JSON (non-JSON values such as instants as text)."""


_scan: Final[Callable[[str, int], tuple[Any, int]]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(text: str) -> Any:
    """The value of JSON text: ``json.loads`` without its set-up, in half the time
    for the short texts rows hold."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end = -1
    # Text around the value (which json.loads allows as whitespace, or reports).
    return value if end == len(text) else json.loads(text)


def dumps_each(values: Iterable[Any]) -> list[str]:
    """:func:`dumps` of each value: bulk writes encode thousands of them."""
    return [dumps(v) for v in values]


def participant(row: sqlite3.Row) -> ParticipantState:
    """A participant row back as engine state."""
    fields = dict(row)
    fields["data"] = loads(fields["data"])
    return ParticipantState.from_row(fields)


CONTACT_COLUMNS: Final = "cid, data, created_at, updated_at"
"""The columns of ``contacts`` that :func:`contact_row` reads, in its order."""


def contact_row(row: Sequence[Any]) -> ContactRow:
    """A contact from a row of :data:`CONTACT_COLUMNS`."""
    cid, data, created, updated = row
    return ContactRow(cid, loads(data), instant(created), instant(updated))


def contact_id(fields: Mapping[str, Any]) -> str | None:
    """The contact's ``id`` column: its ``id`` as text, None when absent or empty."""
    value = fields.get("id")
    return None if value in (None, "") else str(value)


def email_key(fields: Mapping[str, Any]) -> str | None:
    """The contact's ``email`` column: the address trimmed and lower-cased."""
    value = fields.get("email")
    return None if value in (None, "") else str(value).strip().lower()
