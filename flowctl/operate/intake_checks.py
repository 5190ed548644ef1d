"""Checking what comes in (spec §11): a contact's fields, an event, row by row.

Each check returns the row normalized (ids and e-mails stripped, numeric ids
as text) or raises :class:`Rejected` naming the first bad field, so the
caller can report the row by its line and keep the others. The common shapes
(a CSV row, an event naming its contact by e-mail) go through straight-line
code: these run once per row of a 100,000-row file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Final

from flowctl.errors import InvalidValue
from flowctl.load.records import LIST_COLUMNS, Record
from flowctl.timeutil import get_zone, parse_instant

EVENT_KEYS: Final = ("type", "contact", "occurred_at", "id", "data")
_EVENT_KEYS: Final = frozenset(EVENT_KEYS)
CHANGING: Final = frozenset({"tag_added", "tag_removed", "contact_updated"})
"""Event types that change the contact they name."""
NO_DATA: Final[Mapping[str, Any]] = {}

Incoming = tuple[
    int, str, dict[str, Any], datetime, str | None, Mapping[str, Any], Mapping[str, Any] | None
]
"""A checked event: ``(line, type, contact fields, occurred at, id, data, change)``;
``change`` is the normalized data of a contact-changing event, else None."""


class Rejected(Exception):
    """A row that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row left out, by its line in the input, and why."""

    line: int
    reason: str


def batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """``records`` in lists of ``size`` (the last one shorter)."""
    rest = iter(records)
    while batch := list(islice(rest, size)):
        yield batch


def check_event(line: int, data: Mapping[str, Any], now: datetime) -> Incoming:
    """An event ``{type, contact, occurred_at?, id?, data?}`` checked (at ``now`` if undated)."""
    if not data.keys() <= _EVENT_KEYS:
        unknown = [k for k in data if k not in _EVENT_KEYS]
        raise Rejected(f"unknown key '{unknown[0]}'; an event has {', '.join(EVENT_KEYS)}")
    kind = data.get("type")
    if not isinstance(kind, str) or not (kind := kind.strip()):
        raise Rejected("'type' must be a non-empty string")
    contact = data.get("contact")
    if not isinstance(contact, dict):
        raise Rejected("'contact' must be an object with an 'id' or an 'email'")
    email = contact.get("email") if len(contact) == 1 else None
    if type(email) is str and looks_like_email(text := email.strip()):
        fields = {"email": text}  # the usual event: its contact by e-mail alone
    else:
        fields = check_contact(contact)
        text = ""
    when = data.get("occurred_at")
    at = now if when is None else instant_with_offset(when)
    eid = data.get("id")
    if eid is not None and not (type(eid) is str and (eid := eid.strip())):
        eid = _text(data["id"], "id")
    payload = data.get("data")
    if payload is None:
        payload = NO_DATA
    elif not isinstance(payload, dict):
        raise Rejected(f"'data' must be an object, not {_kind(payload)}")
    change = _check_change(kind, payload) if kind in CHANGING else None
    texts = f"{kind}{text}{eid or ''}"  # ASCII without NUL, the usual, needs no closer look
    if not texts.isascii() or "\x00" in texts:
        storable(kind, "type")
        storable(text, "contact")
        if eid is not None:
            storable(eid, "id")
    if payload:
        storable(payload, "data")
    return line, kind, fields, at, eid, payload, change


def storable(value: Any, what: str) -> None:
    """:class:`Rejected` for text no store keeps: a NUL character, a lone UTF-16
    surrogate (half of a character, as a script that cuts an emoji in two sends)."""
    if type(value) is str:
        if value.isascii():
            if "\x00" in value:
                raise Rejected(f"'{what}' holds a NUL character")
            return
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Rejected(
                f"'{what}' holds half of a character (a lone UTF-16 surrogate); send valid UTF-8"
            ) from None
        if "\x00" in value:
            raise Rejected(f"'{what}' holds a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (type(key) is str and key.isascii() and "\x00" not in key):
                storable(key, what)
            if not (type(item) is str and item.isascii() and "\x00" not in item):
                storable(item, what)
    elif isinstance(value, list):
        for item in value:
            storable(item, what)


def _check_change(kind: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The data of a contact-changing event, checked like contact fields."""
    if kind != "contact_updated":
        if not isinstance(data.get("tag"), str) or not data["tag"]:
            raise Rejected(f"{kind} needs the tag's name in data.tag")
        return data
    changes = data.get("set") or {}
    removed = data.get("unset") or []
    if not isinstance(changes, dict):
        raise Rejected(f"data.set must be an object, not {_kind(changes)}")
    if not isinstance(removed, list) or not all(isinstance(f, str) for f in removed):
        raise Rejected("data.unset must be a list of field names")
    fields = {str(k).removeprefix("contact."): v for k, v in changes.items()}
    return {"set": check_fields(fields), "unset": [f.removeprefix("contact.") for f in removed]}


def check_contact(data: Mapping[str, Any]) -> dict[str, Any]:
    """The contact's fields, checked and normalized; :class:`Rejected` names the first bad one."""
    fields = check_fields(data)
    if "id" not in fields and "email" not in fields:
        raise Rejected("a contact needs an 'id' or an 'email'")
    storable(fields, "contact")
    return fields


def check_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with the fields flowctl knows checked, in a fixed order."""
    fields = dict(data)
    if "id" in fields:
        value = fields["id"]
        ok = type(value) is str and (text := value.strip())
        fields["id"] = text if ok else _text(value, "id")
    if "email" in fields:
        value = fields["email"]
        if not isinstance(value, str):
            raise Rejected(f"'email' must be a string, not {_kind(value)}")
        text = value.strip()
        if not looks_like_email(text):
            raise Rejected(f"'{value}' is not an e-mail address")
        fields["email"] = text
    for key, check in _CHECK_ITEMS:  # fewer than a row's keys, mostly absent
        if key in fields:
            fields[key] = check(fields[key])
    return fields


def looks_like_email(text: str) -> bool:
    """Roughly an address: something@domain.tld, no spaces."""
    local, _, domain = text.rpartition("@")
    return bool(local) and "." in domain.strip(".") and " " not in text


def _text(value: Any, what: str) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise Rejected(f"'{what}' must be a non-empty string or a number, not {value!r}")


def _unsubscribed(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise Rejected(f"'unsubscribed' must be true or false, not {value!r}")


def _strings(name: str) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str):
                    break
            else:
                return value
        raise Rejected(f"'{name}' must be a list of strings, not {value!r}")

    return check


_ZONES: dict[str, bool] = {}


def _timezone(value: Any) -> str:
    if isinstance(value, str):
        valid = _ZONES.get(value)
        if valid is None:  # looking a zone up costs a file read: once per name
            try:
                get_zone(value)
                valid = True
            except InvalidValue:
                valid = False
            _ZONES[value] = valid
        if valid:
            return value
    raise Rejected(f"'timezone' {value!r} is not an IANA time zone, e.g. Europe/Oslo or UTC")


def instant_with_offset(value: Any) -> datetime:
    """An event's ``occurred_at``: ISO 8601 with an offset (or ``Z``), else :class:`Rejected`."""
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            with suppress(InvalidValue):  # the spellings fromisoformat does not take
                moment = parse_instant(value) if value.strip().endswith(("z", "Z")) else None
    elif isinstance(value, datetime):
        moment = value
    if moment is not None and moment.tzinfo is not None:
        try:
            return moment.astimezone(UTC)  # as stored: year 1 at +14:00 has no such instant
        except OverflowError:
            raise Rejected(f"'occurred_at' {value!r} is out of range") from None
    raise Rejected(
        f"'occurred_at' {value!r} is not an instant with an offset, "
        "e.g. 2026-11-22T09:00:00+01:00 or 2026-11-22T08:00:00Z"
    )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


_CHECK_ITEMS: Final[tuple[tuple[str, Callable[[Any], Any]], ...]] = (
    ("unsubscribed", _unsubscribed),
    ("timezone", _timezone),
    *((name, _strings(name)) for name in LIST_COLUMNS),
)
"""The checks after ``id`` and ``email`` (done inline), in the order they report."""
