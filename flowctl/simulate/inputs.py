"""Reading simulation inputs: contacts, events with ``at`` offsets, horizons.

Bad input raises :class:`~flowctl.errors.InputError` saying what is wrong,
where, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from flowctl.engine.state import Event
from flowctl.engine.timing import add_span
from flowctl.errors import InputError, InvalidValue
from flowctl.operate.intake_checks import Rejected, check_fields
from flowctl.timeutil import parse_duration, parse_instant


def check_contact(contact: Any, where: str = "participant") -> Mapping[str, Any]:
    """The contact's fields checked and normalized as an import checks them
    (``tags`` a list, ``unsubscribed`` true or false …), else :class:`InputError`."""
    hint = 'write it as {"email": "ann@example.com", "tags": ["vip"]}'
    if not isinstance(contact, Mapping):
        raise InputError(
            f"a contact must be a mapping of fields, not {type(contact).__name__} {contact!r:.60}",
            where=where,
            hint=hint,
        )
    try:
        return check_fields(contact)
    except Rejected as exc:
        raise InputError(str(exc), where=where, hint=hint) from None


def parse_when(value: Any, start: datetime, zone: tzinfo, where: str) -> datetime:
    """An instant, or an offset from ``start`` such as ``+2d`` or ``-1h`` (whole days
    counted as a delay counts them: calendar days in ``zone``)."""
    if isinstance(value, str) and value.strip()[:1] in "+-":
        try:
            return add_span(start, parse_duration(value.strip()), zone)
        except InvalidValue as exc:
            raise InputError(exc.message, where=where, hint="write an offset such as +2d") from exc
    try:
        return parse_instant(value, zone)
    except InvalidValue as exc:
        raise InputError(
            exc.message, where=where, hint="write an instant or an offset such as +2d"
        ) from exc


def parse_event(raw: Any, start: datetime, zone: tzinfo, where: str) -> Event:
    """One event ``{type, at?, data?, id?}``; ``at`` defaults to ``start``."""
    if isinstance(raw, Event):
        return raw
    if not isinstance(raw, Mapping):
        raise InputError(
            f"an event must be a mapping, not {type(raw).__name__}",
            where=where,
            hint="write {type: tag_added, at: +1d, data: {tag: vip}}",
        )
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise InputError("the event has no 'type'", where=where, hint="add type: e.g. tag_added")
    when = raw.get("at", raw.get("occurred_at"))
    at = start if when is None else parse_when(when, start, zone, f"{where}: at")
    data = raw.get("data") or {}
    if not isinstance(data, Mapping):
        raise InputError("the event's 'data' must be a mapping of params", where=where)
    ident = raw.get("id")
    return Event(kind, at, dict(data), None if ident is None else str(ident))


def parse_events(raw: Iterable[Any] | None, start: datetime, zone: tzinfo) -> list[Event]:
    """Events in time order (stable for equal times)."""
    if raw is None:
        return []
    if isinstance(raw, Mapping | str):
        raise InputError("events must be a list of {type, at, data} mappings", where="events")
    events = [parse_event(item, start, zone, f"events[{i}]") for i, item in enumerate(raw)]
    return sorted(events, key=lambda e: e.at)


def parse_span(value: timedelta | str, where: str) -> timedelta:
    """A horizon or offset given as a timedelta or a duration string."""
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(value)
    except InvalidValue as exc:
        raise InputError(exc.message, where=where) from exc


def parse_start(value: datetime | str, zone: tzinfo) -> datetime:
    """The simulation start, an instant."""
    try:
        return parse_instant(value, zone)
    except InvalidValue as exc:
        raise InputError(exc.message, where="start") from exc
