"""The one exception family of flowctl.

Every error a user can cause is a :class:`FlowctlError`: a message that says
what is wrong, an optional location and an optional hint. The CLI prints it
as one line and exits with its ``exit_code``; anything else is a bug.
"""

from __future__ import annotations


class FlowctlError(Exception):
    """A user-facing error: bad input, a refused action, a missing object."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class UsageError(FlowctlError):
    """The command line itself is wrong: a missing file, a bad option value."""

    exit_code = 2


class InvalidValue(FlowctlError):
    """A value (duration, instant, time zone, …) that cannot be read."""


class InputError(FlowctlError):
    """An input file (participant, events, population, test) that cannot be used."""


class NotFound(FlowctlError):
    """A named object (flow, contact, version) that does not exist."""


class Refused(FlowctlError):
    """An action the current state or the user's rights do not allow."""
