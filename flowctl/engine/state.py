"""The data the engine reads and returns: events, participant state, effects, history.

All of it is plain, serialisable data. :meth:`ParticipantState.to_row` gives
the row a store keeps (the columns plus a small JSON blob) and
:meth:`ParticipantState.from_row` reads it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from flowctl.timeutil import isoformat, parse_instant

ACTIVE: Final = "active"
WAITING: Final = "waiting"
COMPLETED: Final = "completed"
SUCCEEDED: Final = "succeeded"
EXITED: Final = "exited"
CANCELED: Final = "canceled"

STATUSES: Final = (ACTIVE, WAITING, COMPLETED, SUCCEEDED, EXITED, CANCELED)
"""Every participant status (spec §8), in display order."""
LIVE_STATUSES: Final = frozenset({ACTIVE, WAITING})
FINAL_STATUSES: Final = frozenset({COMPLETED, SUCCEEDED, EXITED, CANCELED})

_EMPTY: Mapping[str, Any] = MappingProxyType({})

Contact = Mapping[str, Any]
"""A contact as the store or a participant file holds it (spec §11)."""


class Event(NamedTuple):
    """Something that happened to a contact: ``type``, instant ``at`` and ``data`` (params).

    Immutable (a named tuple: cheap to create on the forecast's hot path).
    """

    type: str
    at: datetime
    data: Mapping[str, Any] = _EMPTY
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"type": self.type, "at": isoformat(self.at), "data": dict(self.data)}
        if self.id is not None:
            out["id"] = self.id
        return out


class Effect(NamedTuple):
    """Something a daemon must perform, described as data.

    ``key`` is the idempotency key ``participant:version:step:visit`` (the
    daemon de-duplicates on it and uses it as the e-mail's Message-ID).
    ``params`` holds the action's keys (``mailing``, ``tag``, ``url`` …).
    """

    key: str
    at: datetime
    step: str | None
    type: str
    params: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``at``, ``step``, ``type``, ``key`` and the params."""
        out: dict[str, Any] = {"at": isoformat(self.at), "step": self.step, "type": self.type}
        out.update(self.params)
        out["key"] = self.key
        return out


class HistoryEntry(NamedTuple):
    """One step execution (or a participation event such as success or exit).

    ``step`` is ``None`` for entries that belong to no step (``success``,
    ``exit_when``); ``detail`` says why (e.g. ``unsubscribed`` for a
    suppressed e-mail).
    """

    at: datetime
    step: str | None
    type: str
    outcome: str
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with the keys ``at``, ``step``, ``type``, ``outcome`` (+ ``detail``)."""
        out: dict[str, Any] = {
            "at": isoformat(self.at),
            "step": self.step,
            "type": self.type,
            "outcome": self.outcome,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class ParticipantState:
    """One participation of a contact in a flow: a store row plus a small blob.

    Columns: ``flow``, ``version``, ``contact``, ``status``, ``step`` (where
    the participant is: the step it waits in or runs next), ``due`` (set iff
    ``status`` is ``waiting``), ``entered_at``, ``succeeded_at``,
    ``ended_at``, ``reason``. Blob (:attr:`data`): ``trigger`` (the entering
    event), ``since`` (events count from here), ``visits`` (step id → times
    started, for idempotency keys), ``step_count``, ``hold`` (what it waits
    for: ``delay``, ``wait_until``, ``send_window``, ``frequency_cap``) and
    ``wait_since``.
    """

    flow: str
    version: int
    contact: str
    status: str
    step: str | None
    due: datetime | None
    entered_at: datetime
    trigger: Event
    succeeded_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str | None = None
    visits: Mapping[str, int] = field(default_factory=dict)
    step_count: int = 0
    hold: str | None = None
    wait_since: datetime | None = None

    @property
    def id(self) -> str:
        """A stable participant id: flow, contact and entry instant."""
        return f"{self.flow}/{self.contact}/{int(self.entered_at.timestamp())}"

    @property
    def since(self) -> datetime:
        """Events count for this participation from this instant on (the trigger's time)."""
        return min(self.trigger.at, self.entered_at)

    @property
    def live(self) -> bool:
        """True while ``active`` or ``waiting``."""
        return self.status in LIVE_STATUSES

    def to_row(self) -> dict[str, Any]:
        """The store row: columns plus ``data`` (a JSON-ready dict)."""
        return {
            "flow": self.flow,
            "version": self.version,
            "contact": self.contact,
            "status": self.status,
            "step": self.step,
            "due": _iso(self.due),
            "entered_at": isoformat(self.entered_at),
            "succeeded_at": _iso(self.succeeded_at),
            "ended_at": _iso(self.ended_at),
            "reason": self.reason,
            "data": self.blob(),
        }

    def blob(self) -> dict[str, Any]:
        """The row's ``data``: what has no column of its own."""
        return {
            "trigger": self.trigger.to_dict(),
            "visits": dict(self.visits),
            "step_count": self.step_count,
            "hold": self.hold,
            "wait_since": _iso(self.wait_since),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ParticipantState:
        """Read back what :meth:`to_row` wrote."""
        data = row.get("data") or {}
        trig = data["trigger"]
        return cls(
            flow=row["flow"],
            version=int(row["version"]),
            contact=row["contact"],
            status=row["status"],
            step=row["step"],
            due=_parse(row.get("due")),
            entered_at=parse_instant(row["entered_at"]),
            trigger=Event(
                trig["type"], parse_instant(trig["at"]), trig.get("data", {}), trig.get("id")
            ),
            succeeded_at=_parse(row.get("succeeded_at")),
            ended_at=_parse(row.get("ended_at")),
            reason=row.get("reason"),
            visits=dict(data.get("visits", {})),
            step_count=int(data.get("step_count", 0)),
            hold=data.get("hold"),
            wait_since=_parse(data.get("wait_since")),
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """The store-wide frequency cap: at most ``messages`` e-mails and SMS per ``per``."""

    messages: int
    per: timedelta


Renderer = Callable[[str, Mapping[str, Any]], Any]
"""Renders a template with ``{"contact": …, "trigger": …}``, raising
:class:`~flowctl.templating.TemplateFailure` when it cannot; injected: the engine stays pure."""


@dataclass(frozen=True, slots=True)
class Context:
    """Facts about the world beyond the participant that the engine may read.

    ``once_per_contact``: names of Mailings marked ``once_per_contact``.
    ``sent_mailings``: Mailings already sent to this contact (any flow).
    ``sent_at``: when e-mails and SMS were sent to this contact (any flow),
    for the frequency cap. ``company``: the contact's company record, if the
    caller has one (else derived from ``contact.company``). ``render``:
    renders ``update_contact`` templates; without it template text is kept.
    """

    limits: Limits | None = None
    once_per_contact: frozenset[str] = frozenset()
    sent_mailings: frozenset[str] = frozenset()
    sent_at: tuple[datetime, ...] = ()
    company: Mapping[str, Any] | None = None
    render: Renderer | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """What :func:`~flowctl.engine.advance` returns.

    ``contact`` is the contact with the participant's own changes applied
    (the same object when nothing changed). ``emitted`` are the events the
    actions emitted (the caller stores them as ordinary events). ``history``
    lists the step executions of this advance.
    """

    state: ParticipantState
    contact: Contact
    effects: tuple[Effect, ...]
    emitted: tuple[Event, ...]
    history: tuple[HistoryEntry, ...]

    @property
    def wake_at(self) -> datetime | None:
        """When to call :func:`~flowctl.engine.advance` again at the latest (the due time)."""
        return self.state.due


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else isoformat(moment)


def _parse(text: Any) -> datetime | None:
    return None if text is None else parse_instant(text)
