"""send-window: a ``send_window`` whose ``to`` is not after its ``from``.

Fails::

    send_window: {from: "17:00", to: "09:00"}

Passes::

    send_window: {from: "09:00", to: "17:00"}
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.load import Document

ID = "send-window"
LEVEL = "error"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    window = doc.spec.get("send_window")
    if isinstance(window, dict):
        start, end = window.get("from"), window.get("to")
        if isinstance(start, str) and isinstance(end, str) and end <= start:
            yield Finding(
                "/spec/send_window/to",
                f"send_window closes at {end}, not after it opens at {start}; "
                "'to' must be later than 'from' on the same day",
            )
