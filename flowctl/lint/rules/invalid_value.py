"""invalid-value: a value of the right shape that the engine still cannot use.

A ``matches`` pattern that is not a regular expression, a duration too
long for any calendar (a flow that waits longer than 100 years), a date
that does not exist (``2026-02-30``, in a condition or a FlowTest), or a
``reentry_after`` that cannot apply because ``reentry`` is ``never`` (the
default): contacts would never enter again, whatever the time.

Fails::

    - id: gmail
      type: decision
      if: {field: contact.email, matches: "(["}

Passes::

    - id: gmail
      type: decision
      if: {field: contact.email, matches: '@gmail\\.com$'}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flowctl.errors import InvalidValue
from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.load import Document
from flowctl.timeutil import DURATION_PATTERN, parse_duration, parse_instant

ID = "invalid-value"
LEVEL = "error"
KINDS = ("Flow", "FlowTest")

DURATION_KEYS = frozenset(
    {"duration", "timeout", "reentry_after", "offset", "due", "history_retention"}
    | {"within", "within_last", "before", "after", "in"}
)
"""Keys whose string values are durations (the schema checks their shape)."""
_DURATION = re.compile(DURATION_PATTERN)
INSTANT_KEYS = frozenset({"before", "after", "start", "at"})
"""Keys whose values may be instants (the schema checks their shape, not the calendar)."""
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}([T ].*)?")
USER_DATA = frozenset({"set", "unset", "data", "body", "headers", "params", "contact"})
"""Keys holding the user's own data (contact fields, payloads), which are not read here."""


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    yield from _walk(doc.spec, "/spec")
    spec = doc.spec
    if isinstance(spec, dict) and "reentry_after" in spec and spec.get("reentry") != "after_exit":
        yield Finding(
            "/spec/reentry_after",
            f"reentry_after applies only with reentry: after_exit, and reentry is "
            f"{spec.get('reentry', 'never (the default)')}: set reentry: after_exit to let "
            "contacts enter again after that time, or remove reentry_after",
        )


def _walk(node: Any, pointer: str) -> Iterator[Finding]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{pointer}/{index}")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        here = f"{pointer}/{_escape(str(key))}"
        if key in USER_DATA:
            continue
        if isinstance(value, str):
            problem = _problem(key, value, node)
            if problem:
                yield Finding(here, problem)
        else:
            yield from _walk(value, here)


def _problem(key: str, value: str, node: dict[str, Any]) -> str | None:
    if key == "matches" and "field" in node:
        try:
            re.compile(value)
        except re.error as exc:
            return f"'matches' {value!r} is not a regular expression: {exc}"
    elif key in INSTANT_KEYS and _INSTANT.fullmatch(value.strip()):
        try:
            parse_instant(value)
        except InvalidValue:
            return f"{value!r} in '{key}' is not a date and time that exists"
    elif key in DURATION_KEYS and _DURATION.fullmatch(value.strip().lstrip("+-")):
        try:  # the shape is right (else the schema says so): too long?
            parse_duration(value)
        except InvalidValue as exc:
            return exc.message
    return None


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
