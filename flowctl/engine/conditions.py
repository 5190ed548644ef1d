"""The condition language of spec §6, compiled once into small closures.

:func:`compile_condition` turns a condition mapping into a
:class:`Condition`; :meth:`Condition.holds` evaluates it against a
:class:`Facts`. Rules where the spec is silent:

- A missing field is null; every operator but ``exists``, ``is_empty`` and
  ``ne`` is false on null (``ne`` is true on null unless compared with null).
- ``eq``/``ne``/``in``/``not_in``/``contains`` compare strings exactly
  (case-sensitive); a number compares equal to a numeric string (``42`` and
  ``"42"``), and ``true``/``false`` to the strings ``"true"``/``"false"``
  (CSV imports give strings).
- ``gt``/``gte``/``lt``/``lte`` compare numerically when both sides read as
  numbers, else as strings when both are strings, else are false.
- ``contains`` on a list tests membership, on a string a substring.
- ``matches`` is :func:`re.search` (anchor with ``^…$`` for a full match).
- ``before``/``after``/``within_last`` read the field as an instant; a date
  alone means 00:00 in the flow's zone (the contact's, with
  ``contact_timezone``); a value that is not an instant makes them false.
- Event tests see the events of this participation up to now; a param
  ``url`` matches exactly or as a glob, other params compare as strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from fnmatch import fnmatchcase
from typing import Any

from flowctl.engine.operators import OPERATORS, equal
from flowctl.engine.state import Event
from flowctl.errors import InvalidValue
from flowctl.timeutil import parse_duration

FIELD_OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "matches",
    "exists",
    "is_empty",
    "before",
    "after",
    "within_last",
)
MEMBERSHIPS = {
    "tag": "tags",
    "campaign": "campaigns",
    "selection": "selections",
    "project": "projects",
}
ROOTS = ("contact", "company", "trigger", "participant")


class Facts:
    """What a condition can see: the contact, its company, the trigger, the participation."""

    __slots__ = (
        "_company",
        "contact",
        "entered_at",
        "events",
        "now",
        "step_count",
        "trigger",
        "zone",
    )

    def __init__(
        self,
        *,
        contact: Mapping[str, Any],
        now: datetime,
        zone: tzinfo,
        events: Sequence[Event] = (),
        trigger: Event | None = None,
        company: Mapping[str, Any] | None = None,
        entered_at: datetime | None = None,
        step_count: int = 0,
    ) -> None:
        self.contact = contact
        self._company = company
        self.trigger = trigger
        self.events = events
        self.now = now
        self.zone = zone
        self.entered_at = entered_at
        self.step_count = step_count

    @property
    def company(self) -> Mapping[str, Any]:
        """The ``company.`` root (given, or derived from ``contact.company``)."""
        if self._company is None:
            self._company = company_of(self.contact)
        return self._company


Test = Callable[[Facts], bool]


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition; ``source`` is the mapping it came from (for graphs and messages)."""

    source: Mapping[str, Any]
    test: Test
    uses_events: bool

    def holds(self, facts: Facts) -> bool:
        """True when the condition holds for these facts."""
        return self.test(facts)


def company_of(contact: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``company.`` root: the mapping in ``contact.company``, or ``{name: …}`` for a string."""
    value = contact.get("company")
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    return {} if value is None else {"name": value}


def compile_condition(source: Any, where: str = "condition") -> Condition:
    """Compile a condition mapping (spec §6); raises :class:`InvalidValue` on a bad one."""
    test, uses_events = _compile(source, where)
    return Condition(source, test, uses_events)


def _compile(src: Any, where: str) -> tuple[Test, bool]:
    if not isinstance(src, Mapping) or not src:
        raise InvalidValue(
            f"a condition must be a mapping such as {{tag: vip}}, not {src!r}", where=where
        )
    if "all" in src or "any" in src:
        key = "all" if "all" in src else "any"
        items = src[key]
        if not isinstance(items, list):
            raise InvalidValue(f"'{key}' takes a list of conditions", where=where)
        parts = [_compile(item, f"{where}.{key}[{i}]") for i, item in enumerate(items)]
        tests = tuple(t for t, _ in parts)
        uses = any(u for _, u in parts)
        if key == "all":
            return (lambda f: all(t(f) for t in tests)), uses
        return (lambda f: any(t(f) for t in tests)), uses
    if "not" in src:
        inner, uses = _compile(src["not"], f"{where}.not")
        return (lambda f: not inner(f)), uses
    if "event" in src:  # its tag, campaign, field … are the event's params
        return _event_test(src, where), True
    for key, attr in MEMBERSHIPS.items():
        if key in src:
            return _membership(attr, str(src[key])), False
    if "field" in src:
        return _field_test(src, where), False
    raise InvalidValue(
        f"unknown condition {dict(src)!r}",
        where=where,
        hint="use all/any/not, tag/campaign/selection/project, field with an operator, or event",
    )


def _membership(attr: str, name: str) -> Test:
    def test(f: Facts) -> bool:
        held = f.contact.get(attr)
        return isinstance(held, list | tuple | set | frozenset) and name in held

    return test


def resolve_path(f: Facts, path: str) -> Any:
    """The value at a dotted ``PATH`` (``contact.country``, ``trigger.form`` …), or ``None``."""
    root, _, rest = path.partition(".")
    value: Any
    if root == "contact":
        value = f.contact
    elif root == "company":
        value = f.company
    elif root == "trigger":
        trig = f.trigger
        if trig is None:
            return None
        head = rest.partition(".")[0]
        if head in trig.data:
            value = trig.data
        elif rest == "type":
            return trig.type
        elif rest in ("at", "occurred_at"):
            return trig.at
        else:
            return None
    elif root == "participant":
        if rest == "entered_at":
            return f.entered_at
        if rest == "step_count":
            return f.step_count
        return None
    else:
        return None
    for part in rest.split("."):
        if type(value) is dict or isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


def _field_test(src: Mapping[str, Any], where: str) -> Test:
    path = src["field"]
    if not isinstance(path, str) or path.partition(".")[0] not in ROOTS or "." not in path:
        raise InvalidValue(
            f"field path {path!r} must start with one of {', '.join(r + '.' for r in ROOTS)}",
            where=where,
        )
    ops = [k for k in src if k != "field"]
    if len(ops) != 1 or ops[0] not in FIELD_OPERATORS:
        raise InvalidValue(
            f"a field test takes exactly one operator, got {ops}",
            where=where,
            hint=f"operators: {', '.join(FIELD_OPERATORS)}",
        )
    op = ops[0]
    check = OPERATORS[op](src[op], f"{where}.{op}")
    null_ok = op in ("exists", "is_empty", "ne")

    def test(f: Facts) -> bool:
        value = resolve_path(f, path)
        if value is None and not null_ok:
            return False
        return check(value, f)

    return test


def param_matches(expected: Any, actual: Any, *, glob: bool) -> bool:
    """Does an event's param value match a trigger's or event test's param?"""
    if actual is None:
        return False
    if glob and isinstance(expected, str) and isinstance(actual, str):
        return actual == expected or fnmatchcase(actual, expected)
    return equal(actual, expected) or str(actual) == str(expected)


def event_matches(event: Event, type_: str, params: Mapping[str, Any]) -> bool:
    """Does ``event`` have this type and these params (``url`` as a glob, ``field`` in ``set``)?

    A custom event (type ``event`` with ``name: X``) is an event of type
    ``event`` whose ``data.name`` is X, or an event whose type *is* X.
    """
    if event.type != type_:
        if type_ != "event" or event.type != params.get("name"):
            return False
        params = {k: v for k, v in params.items() if k != "name"}
    data = event.data
    for key, want in params.items():
        if key == "field" and key not in data:
            changed: Iterable[Any] = list(data.get("set") or ()) + list(data.get("unset") or ())
            names = {str(n).removeprefix("contact.") for n in changed}
            if str(want).removeprefix("contact.") not in names:
                return False
            continue
        if not param_matches(want, data.get(key), glob=key == "url"):
            return False
    return True


def _event_test(src: Mapping[str, Any], where: str) -> Test:
    type_ = str(src["event"])
    within = parse_duration(src["within"]) if "within" in src else None
    params = {k: v for k, v in src.items() if k not in ("event", "within")}
    custom = type_ == "event"

    def test(f: Facts) -> bool:
        floor = f.now - within if within is not None else None
        for event in f.events:
            if floor is not None and event.at < floor:
                continue
            if event_matches(event, type_, params) if params or custom else event.type == type_:
                return True
        return False

    return test
