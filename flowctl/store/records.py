"""The plain data the store takes and gives back.

Frozen dataclasses with no behaviour of their own: the store interface
(:class:`~flowctl.store.base.Store`) speaks in these, so nothing above it
depends on how a backend lays out its tables. Those made once per row of a
bulk read or write (contacts, events, messages) are named tuples: as
immutable, and several times quicker to create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NamedTuple

from flowctl.engine.state import ParticipantState

NO_DATA: Final[Mapping[str, Any]] = {}
"""An empty ``data``, never changed: a named tuple's default is shared by all."""

FLOW: Final = "Flow"
CONTENT_KINDS: Final = ("Mailing", "Sms")
STORED_KINDS: Final = (FLOW, *CONTENT_KINDS)

DRAFT: Final = "draft"
ACTIVE: Final = "active"
PAUSED: Final = "paused"
DEACTIVATED: Final = "deactivated"
FLOW_STATES: Final = (DRAFT, ACTIVE, PAUSED, DEACTIVATED)


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """One version of a flow or a piece of content.

    ``source`` is the document's own YAML text as applied; ``document`` the
    parsed, normalized mapping; ``hash`` identifies the normalized form, so
    re-applying the same content (even reformatted) is recognised.
    """

    kind: str
    name: str
    version: int
    hash: str
    source: str
    document: Mapping[str, Any]
    created_at: datetime
    created_by: str
    path: str | None = None

    @property
    def metadata(self) -> Mapping[str, Any]:
        """The document's ``metadata`` mapping."""
        meta = self.document.get("metadata")
        return meta if isinstance(meta, Mapping) else {}


@dataclass(frozen=True, slots=True)
class FlowRow:
    """A flow's current head: its state and the figures lists show.

    ``activated_at`` is the start of the current activation period (None
    while a draft or deactivated). ``shown_at`` is when it was last viewed
    with ``describe`` (for ``get flows --recent``).
    """

    name: str
    version: int
    state: str
    title: str | None
    folder: str | None
    description: str | None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    shown_at: datetime | None
    participants: int = 0
    succeeded: int = 0

    @property
    def success_rate(self) -> float:
        """Participations that succeeded ÷ all participations (0 when none)."""
        return self.succeeded / self.participants if self.participants else 0.0


@dataclass(frozen=True, slots=True)
class Activation:
    """One period in which a flow was active (``ended_at`` None while it lasts)."""

    flow: str
    started_at: datetime
    ended_at: datetime | None


NO_ADDRESS: Final = "the contact has no address for this channel"
"""Why a message to a contact without an e-mail address (or phone number) failed."""


@dataclass(frozen=True, slots=True)
class Pause:
    """One time a flow was paused (``ended_at`` None while it lasts): what fell due
    or was triggered meanwhile runs as of its end."""

    flow: str
    started_at: datetime
    ended_at: datetime | None


class ContactRow(NamedTuple):
    """A contact: the store's own key ``cid`` and the fields (spec §11)."""

    cid: int
    data: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime


class NewEvent(NamedTuple):
    """An event to record for the contact ``cid``; ``id`` makes it idempotent.

    ``handled`` records it as processed already: the daemon's own events that
    no flow listens to, which no later pass needs to claim.
    """

    cid: int
    type: str
    occurred_at: datetime
    data: Mapping[str, Any] = NO_DATA
    id: str | None = None
    handled: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, when, to which object; ``detail`` adds the specifics."""

    at: datetime
    user: str
    command: str
    object: str
    detail: str | None = None


QUEUED: Final = "queued"
SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
MESSAGE_CANCELED: Final = "canceled"
MESSAGE_STATUSES: Final = (QUEUED, SENDING, SENT, FAILED, MESSAGE_CANCELED)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A delivery attempt's outcome for the outbox row ``id``: ``sent``, ``failed``
    (for good, ``error`` saying why), or ``queued`` again for a retry at ``next_at``."""

    id: int
    status: str
    error: str | None = None
    next_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutMessage:
    """A message in the outbox: an e-mail, an SMS or a webhook call, rendered at queue time.

    ``key`` is the idempotency key ``participant:version:step:visit`` (one
    row per key; it becomes the e-mail's Message-ID). ``channel`` is
    ``email``, ``sms`` or ``webhook``; ``content`` the Mailing or Sms name
    (None for webhooks); ``to`` the address or phone number (the URL for a
    webhook). ``payload`` holds what the transport sends: for e-mail
    ``from``, ``subject``, ``text``, ``html``?, ``headers``?; for SMS ``text``;
    for a webhook ``method``, ``headers``, ``body``.
    """

    id: int
    key: str
    flow: str
    step: str
    cid: int
    channel: str
    content: str | None
    to: str | None
    payload: Mapping[str, Any]
    status: str
    attempts: int
    queued_at: datetime
    sent_at: datetime | None = None
    error: str | None = None


class StoredEvent(NamedTuple):
    """An event as the store keeps it: ``seq`` orders arrival."""

    seq: int
    cid: int
    type: str
    occurred_at: datetime
    data: Mapping[str, Any]
    id: str | None = None


class NewMessage(NamedTuple):
    """A message to queue in the outbox (see :class:`OutMessage`); ``send_at``: not
    delivered before then (the send window's next opening), else at once."""

    key: str
    flow: str
    step: str
    participant: str
    cid: int
    channel: str
    content: str | None
    to: str | None
    payload: Mapping[str, Any]
    status: str = "queued"
    send_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One line of a participant's step log."""

    participant: str
    flow: str
    version: int
    cid: int
    at: datetime
    step: str | None
    type: str
    outcome: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CrmObject:
    """Something an action created in the CRM: a sale, appointment, ticket, activity,
    notification (``kind``), keyed by the step's idempotency key."""

    key: str
    kind: str
    cid: int
    flow: str
    step: str
    data: Mapping[str, Any]
    created_at: datetime


@dataclass
class Batch:
    """Everything one unit of daemon work writes, committed in one transaction.

    ``entered`` are new participants ``(cid, state)``; ``advanced`` existing
    ones written back; ``step_counts`` add to the per-step counters
    ``(flow, day, step, outcome) → n`` and ``daily_counts`` to ``(flow, day,
    metric) → n``; ``processed`` are event ``seq``\\ s now handled;
    ``deferred`` ``(flow, seq)`` pairs are events kept for a paused flow and
    ``released`` those handled after its resume.
    """

    entered: list[tuple[int, ParticipantState]] = field(default_factory=list)
    advanced: list[ParticipantState] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)
    step_counts: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    daily_counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    messages: list[NewMessage] = field(default_factory=list)
    contacts: dict[int, Mapping[str, Any]] = field(default_factory=dict)
    events: list[NewEvent] = field(default_factory=list)
    crm: list[CrmObject] = field(default_factory=list)
    processed: list[int] = field(default_factory=list)
    deferred: list[tuple[str, int]] = field(default_factory=list)
    released: list[tuple[str, int]] = field(default_factory=list)

    def count(self, table: dict[Any, int], key: tuple[str, ...]) -> None:
        table[key] = table.get(key, 0) + 1

    def __bool__(self) -> bool:
        return any(
            (
                self.entered,
                self.advanced,
                self.history,
                self.messages,
                self.contacts,
                self.events,
                self.crm,
                self.processed,
                self.deferred,
            )
        )
