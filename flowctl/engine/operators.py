"""Field-test operators of spec §6 (``eq`` … ``within_last``), each a factory.

A factory takes the operator's argument (and where it is, for errors) and
returns a check of a field value against the facts; see
:mod:`flowctl.engine.conditions` for the comparison rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from flowctl.errors import InvalidValue
from flowctl.timeutil import parse_duration, parse_instant

if TYPE_CHECKING:
    from flowctl.engine.conditions import Facts

Check = Callable[[Any, "Facts"], bool]


def equal(actual: Any, expected: Any) -> bool:
    """Equality with the light coercions documented in the module docstring."""
    if actual == expected and type(actual) is not bool and type(expected) is not bool:
        return True
    if isinstance(actual, bool) or isinstance(expected, bool):
        return _as_bool(actual) is not None and _as_bool(actual) == _as_bool(expected)
    if isinstance(actual, int | float) or isinstance(expected, int | float):
        a, b = _as_number(actual), _as_number(expected)
        return a is not None and a == b
    return bool(actual == expected)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _eq(arg: Any, where: str) -> Check:
    return lambda v, f: equal(v, arg)


def _ne(arg: Any, where: str) -> Check:
    return lambda v, f: not equal(v, arg) if v is not None else arg is not None


def _in(arg: Any, where: str) -> Check:
    options = _as_list(arg, where)
    return lambda v, f: any(equal(v, o) for o in options)


def _not_in(arg: Any, where: str) -> Check:
    options = _as_list(arg, where)
    return lambda v, f: not any(equal(v, o) for o in options)


def _as_list(arg: Any, where: str) -> tuple[Any, ...]:
    if not isinstance(arg, list | tuple):
        raise InvalidValue(f"expected a list such as [NO, SE], got {arg!r}", where=where)
    return tuple(arg)


def _compare(sign: str) -> Callable[[Any, str], Check]:
    def factory(arg: Any, where: str) -> Check:
        want = _as_number(arg)

        def check(value: Any, f: Facts) -> bool:
            have = _as_number(value)
            if want is not None and have is not None:
                a: Any
                b: Any
                a, b = have, want
            elif isinstance(value, str) and isinstance(arg, str):
                a, b = value, arg
            else:
                return False
            if sign == "gt":
                return bool(a > b)
            if sign == "gte":
                return bool(a >= b)
            if sign == "lt":
                return bool(a < b)
            return bool(a <= b)

        return check

    return factory


def _contains(negate: bool) -> Callable[[Any, str], Check]:
    def factory(arg: Any, where: str) -> Check:
        def check(value: Any, f: Facts) -> bool:
            if isinstance(value, str):
                found = str(arg) in value
            elif isinstance(value, list | tuple | set | frozenset):
                found = any(equal(item, arg) for item in value)
            else:
                return False
            return found != negate

        return check

    return factory


def _starts_with(arg: Any, where: str) -> Check:
    text = str(arg)
    return lambda v, f: isinstance(v, str) and v.startswith(text)


def _ends_with(arg: Any, where: str) -> Check:
    text = str(arg)
    return lambda v, f: isinstance(v, str) and v.endswith(text)


def _matches(arg: Any, where: str) -> Check:
    try:
        pattern = re.compile(str(arg))
    except re.error as exc:
        raise InvalidValue(f"{arg!r} is not a regular expression: {exc}", where=where) from exc
    return lambda v, f: isinstance(v, str | int | float) and pattern.search(str(v)) is not None


def _exists(arg: Any, where: str) -> Check:
    want = _flag(arg, where)
    return lambda v, f: (v is not None) == want


def _is_empty(arg: Any, where: str) -> Check:
    want = _flag(arg, where)
    return lambda v, f: (v is None or v == "" or (isinstance(v, list | dict) and not v)) == want


def _flag(arg: Any, where: str) -> bool:
    if not isinstance(arg, bool):
        raise InvalidValue(f"expected true or false, got {arg!r}", where=where)
    return arg


def to_instant(value: Any, zone: tzinfo) -> datetime | None:
    """A field value read as an instant (a date alone is 00:00 in ``zone``), or ``None``."""
    if isinstance(value, datetime | date):
        return parse_instant(value, zone)
    if isinstance(value, str):
        try:
            return parse_instant(value, zone)
        except InvalidValue:
            return None
    return None


def reference_instant(arg: Any, where: str) -> Callable[[Facts], datetime]:
    """``before``/``after`` argument: a fixed instant, or a duration relative to now (``-30d``)."""
    if isinstance(arg, str) and (arg[:1] in "+-" or arg[:1] == "P" or arg[-1:] in "smhdw"):
        try:
            delta = parse_duration(arg)
        except InvalidValue:
            delta = None
        if delta is not None:
            return lambda f: f.now + delta
    text = arg
    if isinstance(text, str) and "T" not in text:
        # a date alone: 00:00 in the zone of the facts, resolved when evaluated
        day = to_instant(text, UTC)
        if day is None:
            raise InvalidValue(
                f"{arg!r} is neither an instant nor a duration such as -30d", where=where
            )
        local_day = day.date()
        return lambda f: parse_instant(local_day, f.zone)
    moment = to_instant(text, UTC)
    if moment is None:
        raise InvalidValue(
            f"{arg!r} is neither an instant nor a duration such as -30d", where=where
        )
    return lambda f: moment


def _before_after(after: bool) -> Callable[[Any, str], Check]:
    def factory(arg: Any, where: str) -> Check:
        ref = reference_instant(arg, where)

        def check(value: Any, f: Facts) -> bool:
            moment = to_instant(value, f.zone)
            if moment is None:
                return False
            return moment > ref(f) if after else moment < ref(f)

        return check

    return factory


def _within_last(arg: Any, where: str) -> Check:
    span = parse_duration(arg)

    def check(value: Any, f: Facts) -> bool:
        moment = to_instant(value, f.zone)
        return moment is not None and f.now - span <= moment <= f.now

    return check


OPERATORS: dict[str, Callable[[Any, str], Check]] = {
    "eq": _eq,
    "ne": _ne,
    "in": _in,
    "not_in": _not_in,
    "gt": _compare("gt"),
    "gte": _compare("gte"),
    "lt": _compare("lt"),
    "lte": _compare("lte"),
    "contains": _contains(False),
    "not_contains": _contains(True),
    "starts_with": _starts_with,
    "ends_with": _ends_with,
    "matches": _matches,
    "exists": _exists,
    "is_empty": _is_empty,
    "before": _before_after(False),
    "after": _before_after(True),
    "within_last": _within_last,
}
