"""zero-duration: a wait of zero (``delay.duration``, ``wait_until.timeout``).

A zero wait is almost always a typo; remove the step if no wait is meant.

Fails::

    - {id: pause, type: delay, duration: 0d}

Passes::

    - {id: pause, type: delay, duration: 1d}
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.errors import InvalidValue
from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps
from flowctl.load import Document
from flowctl.timeutil import parse_duration

ID = "zero-duration"
LEVEL = "error"
KINDS = ("Flow",)

_WAITS = {"delay": "duration", "wait_until": "timeout"}


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    for step, pointer in flow_steps(doc.spec):
        key = _WAITS.get(str(step.get("type")), "")
        value = step.get(key)
        if not isinstance(value, str):
            continue
        try:
            zero = not parse_duration(value)
        except InvalidValue:
            continue
        if zero:
            yield Finding(
                f"{pointer}/{key}", f"'{key}' is zero ({value}); a wait must last longer than 0"
            )
