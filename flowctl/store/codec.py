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


def dumps(value: Any) -> str:
    """Compact JSON (non-JSON values such as instants as text)."""
    return _ENCODER.encode(value)


_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
"""One encoder for every call: ``json.dumps`` with options sets up a new one each time."""


def dumps_each(values: Iterable[Any]) -> list[str]:
    """:func:`dumps` of each value (the same text), made by one encoder for them all.

    ``json.dumps`` sets up a new encoder per call, which costs more than
    encoding a contact's fields does; bulk writes encode thousands of values.
    """
    encoder = _c_encoder() if _C_ENCODER_FITS else None
    if encoder is None:
        return [dumps(v) for v in values]
    join = "".join
    return [join(encoder(v, 0)) for v in values]


_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)


def _c_encoder() -> Callable[[Any, int], Sequence[str]] | None:
    """CPython's C encoder set up as ``json.dumps`` sets it up for :func:`dumps`."""
    if _MAKE_ENCODER is None:
        return None
    try:  # markers: a new dict per encoder, as json.dumps checks for cycles
        encoder: Callable[[Any, int], Sequence[str]] = _MAKE_ENCODER(
            {}, str, json.encoder.encode_basestring, None, ":", ",", False, False, True
        )
    except TypeError:  # a Python whose encoder takes other arguments
        return None
    return encoder


def _c_encoder_fits() -> bool:
    """Whether :func:`_c_encoder` writes exactly what :func:`dumps` writes, here."""
    sample = {"a": [1, 2.5, None, True, 'é\n"<\u2028', {}], "b": datetime(2026, 1, 1, tzinfo=UTC)}
    encoder = _c_encoder()
    try:
        return encoder is not None and "".join(encoder(sample, 0)) == dumps(sample)
    except Exception:
        return False


_C_ENCODER_FITS: Final = _c_encoder_fits()


def participant(row: sqlite3.Row) -> ParticipantState:
    """A participant row back as engine state."""
    fields = dict(row)
    fields["data"] = json.loads(fields["data"])
    return ParticipantState.from_row(fields)


def contact_row(row: sqlite3.Row) -> ContactRow:
    return ContactRow(
        cid=row["cid"],
        data=json.loads(row["data"]),
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )


def contact_id(fields: Mapping[str, Any]) -> str | None:
    """The contact's ``id`` column: its ``id`` as text, None when absent or empty."""
    value = fields.get("id")
    return None if value in (None, "") else str(value)


def email_key(fields: Mapping[str, Any]) -> str | None:
    """The contact's ``email`` column: the address trimmed and lower-cased."""
    value = fields.get("email")
    return None if value in (None, "") else str(value).strip().lower()
