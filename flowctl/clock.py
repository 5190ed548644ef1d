""" "Now" for the command line: ``FLOWCTL_NOW`` when set, else the real clock.

Library code never reads the clock; it takes ``now`` as an argument. Only
the CLI (and the daemon's scheduler) ask this module.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flowctl.errors import InvalidValue, UsageError
from flowctl.timeutil import parse_instant

ENV = "FLOWCTL_NOW"


def now() -> datetime:
    """The current instant (aware), fast-forwarded by ``FLOWCTL_NOW`` if set."""
    return fixed() or datetime.now(UTC)


def fixed() -> datetime | None:
    """The instant ``FLOWCTL_NOW`` sets, or None when the real clock runs. Without an
    offset (``2026-03-02`` or ``2026-03-02T08:00``) it is read in UTC."""
    fixed = os.environ.get(ENV, "").strip()
    if not fixed:
        return None
    try:
        return parse_instant(fixed)
    except InvalidValue as exc:
        raise UsageError(
            f"{ENV}={fixed!r} is not an instant",
            hint="set it to ISO 8601 with an offset, e.g. 2026-11-22T09:00:00+01:00",
        ) from exc
