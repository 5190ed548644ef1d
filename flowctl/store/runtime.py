"""The part of the store interface the daemon runs on: claiming work, committing it.

Work is claimed and committed inside one :meth:`~flowctl.store.base.Store.transaction`:
the daemon reads what is due, runs the engine, and writes the whole
:class:`~flowctl.store.records.Batch` before the transaction ends, so a
crash at any point leaves either all of a batch or none of it. Messages are
delivered after commit and marked afterwards (at least once, keyed).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from flowctl.engine.state import Event, ParticipantState
from flowctl.store.records import (
    Attempt,
    Batch,
    ContactRow,
    HistoryRow,
    OutMessage,
    StoredEvent,
)


class RuntimeStore(ABC):
    """Claims, batch commits, delivery bookkeeping and the views of what ran."""

    # -- claiming work (call inside a transaction) ------------------------

    @abstractmethod
    def pending_events(self, now: datetime, limit: int) -> list[StoredEvent]:
        """Events not processed yet that occurred by ``now``, in arrival order; empty when none.

        An event dated in the future waits until its time comes.
        """

    @abstractmethod
    def deferred_events(self, flow: str, limit: int) -> list[StoredEvent]:
        """Events kept for a flow while it was paused, in arrival order."""

    @abstractmethod
    def due_participants(
        self, now: datetime, flows: Iterable[str], limit: int
    ) -> list[tuple[int, ParticipantState]]:
        """Participants of ``flows`` that must run at ``now``: ``active`` ones, and
        ``waiting`` ones whose due time has come (earliest first), as ``(cid, state)``."""

    @abstractmethod
    def participations(self, cids: Iterable[int]) -> dict[int, list[ParticipantState]]:
        """Every participation (any flow, any status) of these contacts, by contact."""

    @abstractmethod
    def contacts_by_cid(self, cids: Iterable[int]) -> dict[int, ContactRow]:
        """The contacts with these keys (missing ones left out)."""

    @abstractmethod
    def contact_events(self, cids: Iterable[int], since: datetime) -> dict[int, list[Event]]:
        """Each contact's events that occurred at or after ``since``, oldest first."""

    @abstractmethod
    def sent_messages(self, cids: Iterable[int]) -> dict[int, list[tuple[str | None, datetime]]]:
        """Per contact, the e-mails and SMS queued or sent to it (``content``, ``queued_at``);
        canceled and failed ones are left out."""

    @abstractmethod
    def commit_batch(self, batch: Batch, at: datetime) -> None:
        """Write everything in ``batch`` atomically (see :class:`Batch`).

        A message whose key is already in the outbox, or a CRM object whose
        key exists, is not written again (idempotent by key).
        """

    # -- delivery ----------------------------------------------------------

    @abstractmethod
    def claim_messages(self, now: datetime, limit: int, lease_until: datetime) -> list[OutMessage]:
        """Queued messages due for (another) attempt, marked ``sending`` until ``lease_until``.

        A ``sending`` message whose lease ran out (its daemon died) is claimed again.
        Messages of a paused flow wait for its resume.
        """

    @abstractmethod
    def keep_messages(self, channels: Sequence[str], now: datetime, limit: int) -> tuple[int, int]:
        """Deliver by keeping, in one transaction: up to ``limit`` queued messages of
        ``channels`` due at ``now`` (not of a paused flow), oldest first, become
        ``sent`` at ``now``, or ``failed`` without a recipient (``NO_ADDRESS``).

        For the channels whose transport keeps messages in the store (the
        outbox): nothing leaves it, so no claim is needed. Returns ``(sent, failed)``.
        """

    @abstractmethod
    def finish_messages(self, attempts: Sequence[Attempt], at: datetime) -> None:
        """Record delivery attempts made at ``at``, in one transaction; counts each attempt."""

    @abstractmethod
    def cancel_messages(self, flow: str, at: datetime) -> int:
        """Cancel the flow's unsent (queued) messages; returns how many."""

    # -- views -------------------------------------------------------------

    @abstractmethod
    def messages(
        self, *, flow: str | None = None, status: str | None = None, limit: int = 1000
    ) -> list[OutMessage]:
        """Outbox messages, newest first."""

    @abstractmethod
    def participant_rows(
        self, flow: str, *, status: str | None = None, limit: int = 10_000
    ) -> list[Mapping[str, Any]]:
        """A flow's participants with their contact and last message, newest entry first:
        ``state`` (a ParticipantState), ``contact`` (fields), ``last_mailing``,
        ``last_mailing_date``, ``last_mailing_status``."""

    def live_step_counts(self, flow: str) -> dict[str, int]:
        """How many ``active`` and ``waiting`` participants of the flow are at each step.

        Backends answer it with one grouped query; this default counts
        :meth:`~flowctl.store.base.Store.live_participants`.
        """
        counts: dict[str, int] = {}
        for state in self.live_participants(flow):  # type: ignore[attr-defined]
            if state.step:
                counts[state.step] = counts.get(state.step, 0) + 1
        return counts

    @abstractmethod
    def history(
        self, *, cid: int | None = None, flow: str | None = None, limit: int = 1000
    ) -> list[HistoryRow]:
        """The step log of a contact or a flow, newest first."""

    @abstractmethod
    def step_counts(
        self, flow: str, *, since: date | None = None, until: date | None = None
    ) -> dict[tuple[str, str], int]:
        """The flow's per-step counters ``(step, outcome) → n`` summed over the days
        from ``since`` to ``until`` (both included; all days when None). Kept through purges."""

    @abstractmethod
    def daily_counts(self, flow: str) -> dict[tuple[str, str], int]:
        """The flow's daily counters: ``(day, metric) → n`` (``entered``, ``succeeded`` …)."""

    @abstractmethod
    def crm_objects(self, cid: int) -> list[Mapping[str, Any]]:
        """What actions created for a contact, oldest first: ``kind``, ``flow``, ``step``,
        ``data``, ``created_at``."""

    # -- housekeeping --------------------------------------------------------

    @abstractmethod
    def purge(self, history_before: Mapping[str, datetime], events_before: datetime) -> int:
        """Delete step history older than each flow's cutoff and processed events
        older than ``events_before``; counters and participants stay, and so do the
        events of contacts in a live participation (its conditions still test them).
        Returns rows deleted."""

    @abstractmethod
    def sent_messages_count(
        self,
        flow: str,
        *,
        channel: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> dict[str, dict[str, int]]:
        """Per content name, a flow's messages (of ``channel``) by status; with a
        period, those queued from the start of (UTC) day ``since`` to the end of ``until``.
        Only those queued since the flow was created: not a deleted namesake's."""
