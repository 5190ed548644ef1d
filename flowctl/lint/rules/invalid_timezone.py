"""invalid-timezone: a time zone name that is not IANA.

Fails::

    spec:
      timezone: CET+1

Passes::

    spec:
      timezone: Europe/Oslo
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from zoneinfo import available_timezones

from flowctl.errors import InvalidValue
from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.load import Document
from flowctl.timeutil import get_zone

ID = "invalid-timezone"
LEVEL = "error"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    zone = doc.spec.get("timezone")
    if isinstance(zone, str):
        try:
            get_zone(zone)
        except InvalidValue:
            close = difflib.get_close_matches(zone, sorted(available_timezones()), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "use a name such as Europe/Oslo"
            yield Finding("/spec/timezone", f"'{zone}' is not an IANA time zone; {hint}")
