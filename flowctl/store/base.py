"""The store interface: everything flowctl keeps, behind small verb methods.

Every backend (:mod:`~flowctl.store.sqlite`, and PostgreSQL to scale out)
implements :class:`Store`, and one contract test suite
(``tests/store/test_contract.py``) runs against each. Nothing above the
store writes SQL or knows which backend it has.

Atomicity: each method is atomic on its own. :meth:`Store.transaction`
groups several calls into one atomic unit (an ``apply`` of many documents,
a batch of contacts and their events); calls inside it see each other's
writes, and nothing is visible to other connections before it commits.
Instants go in and come out as aware datetimes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from typing import Any, Final, TypeVar

from flowctl.engine.state import ParticipantState
from flowctl.store.records import (
    Activation,
    AuditEntry,
    ContactRow,
    FlowRow,
    NewEvent,
    Pause,
    StoredDocument,
)
from flowctl.store.runtime import RuntimeStore

T = TypeVar("T")


FLOW_TABLES: Final = (
    "activations",
    "pauses",
    "participants",
    "history",
    "step_counts",
    "daily_counts",
    "deferred",
)
"""The tables holding a flow's own rows (by its name, in ``flow``): deleted with it."""


class Store(RuntimeStore):
    """A flowctl store. Use as a context manager, or call :meth:`close`."""

    url: str
    """Where the store lives, as the user named it."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- housekeeping ---------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release the connection. Idempotent."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """An atomic unit around several calls: all of them commit, or none.

        Nested use joins the outer transaction. An exception inside rolls
        everything back and propagates.
        """

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Around a long run of large write transactions (an import, an ingest): the
        backend may put off its housekeeping while inside and do it once at the end
        (SQLite checkpoints its write-ahead log less often). Nothing else changes."""
        yield

    @property
    @abstractmethod
    def schema_version(self) -> int:
        """The version of the store's layout (upgraded in place on open)."""

    # -- flows and content ----------------------------------------------

    @abstractmethod
    def document(self, kind: str, name: str, version: int | None = None) -> StoredDocument | None:
        """One version of a document (the current one when ``version`` is None), or None."""

    @abstractmethod
    def documents(self, kind: str | None = None) -> list[StoredDocument]:
        """The current version of every document (of ``kind``), ordered by kind and name.

        Empty list when there are none.
        """

    @abstractmethod
    def versions(self, kind: str, name: str) -> list[StoredDocument]:
        """Every version of a document, oldest first; empty when it does not exist."""

    @abstractmethod
    def add_version(self, doc: StoredDocument) -> None:
        """Store ``doc`` as the new current version of its document.

        ``doc.version`` must be one more than the current version (1 for a
        new document); a flow created this way starts in state ``draft``.
        Raises :class:`~flowctl.errors.Refused` on a version conflict (a
        concurrent apply), writing nothing.
        """

    @abstractmethod
    def delete_document(self, kind: str, name: str) -> bool:
        """Delete a document with all its versions, in one transaction; for a flow
        also its activation periods, participants, step history, counters and held
        events, so that a flow applied later under the name starts afresh. The
        messages it sent and the CRM objects it made stay (they happened).

        Returns False when it did not exist.
        """

    # -- flow state -----------------------------------------------------

    @abstractmethod
    def flows(self, *, counts: bool = True) -> list[FlowRow]:
        """Every flow's head with participant and success counts, ordered by name.

        ``counts=False`` leaves the counts at zero, for callers that need only
        names, states and versions (the daemon, every pass).
        """

    @abstractmethod
    def flow(self, name: str) -> FlowRow | None:
        """One flow's head, or None."""

    @abstractmethod
    def set_flow_state(self, name: str, state: str, at: datetime) -> str:
        """Move a flow to ``state`` at ``at``, recording activation periods, and return
        the state it was in, read under the write lock (nothing changes when it is
        ``state`` already: a concurrent command moved it first).

        Entering ``active`` from ``draft`` or ``deactivated`` opens a period
        starting ``at``; ``deactivated`` closes it. Pausing and resuming keep
        the period (events during a pause still count). Pausing opens a
        pause starting ``at``; leaving ``paused`` (resume or deactivate)
        closes it.
        """

    @abstractmethod
    def activations(self, name: str) -> list[Activation]:
        """A flow's activation periods, oldest first."""

    @abstractmethod
    def pauses(self) -> list[Pause]:
        """Every flow's pauses, by flow, oldest first."""

    @abstractmethod
    def mark_shown(self, name: str, at: datetime) -> None:
        """Note that the flow was viewed at ``at`` (for ``get flows --recent``)."""

    # -- contacts -------------------------------------------------------

    @abstractmethod
    def find_contacts(
        self, ids: Iterable[str] = (), emails: Iterable[str] = ()
    ) -> list[ContactRow]:
        """Contacts whose ``id`` is among ``ids`` or whose e-mail is among ``emails``.

        E-mail matching ignores case. Order is unspecified; empty when none match.
        """

    def contact_keys(
        self, ids: Iterable[str] = (), emails: Iterable[str] = ()
    ) -> tuple[dict[str, int], dict[str, int]]:
        """The keys alone of the contacts :meth:`find_contacts` would return, without their fields.

        Returns ``(by_id, by_email)``: each of ``ids`` that a contact holds →
        that contact's ``cid``, and each of ``emails`` a contact holds, lower-cased
        → its ``cid`` (matching ignores case, as in :meth:`find_contacts`).
        Values not found are left out; both dicts are empty when none match.
        Read-only and atomic (one snapshot). A backend reads this from its key
        indexes alone; this default goes through :meth:`find_contacts`.
        """
        wanted_ids = set(ids)
        wanted_emails = {e.lower() for e in emails}
        by_id: dict[str, int] = {}
        by_email: dict[str, int] = {}
        for row in self.find_contacts(wanted_ids, wanted_emails):
            cid, email = row.data.get("id"), row.data.get("email")
            if cid not in (None, "") and str(cid) in wanted_ids:
                by_id[str(cid)] = row.cid
            if email not in (None, "") and str(email).strip().lower() in wanted_emails:
                by_email[str(email).strip().lower()] = row.cid
        return by_id, by_email

    @abstractmethod
    def contact(self, cid: int) -> ContactRow | None:
        """One contact by the store's key, or None."""

    @abstractmethod
    def contacts(self, *, limit: int = 100, offset: int = 0) -> list[ContactRow]:
        """Contacts in the order they were created."""

    @abstractmethod
    def count_contacts(self) -> int:
        """How many contacts the store holds."""

    @abstractmethod
    def insert_contacts(self, rows: Sequence[Mapping[str, Any]], at: datetime) -> list[int]:
        """Create contacts (their fields as given) and return their keys, in order.

        Raises :class:`~flowctl.errors.Refused` if an ``id`` or e-mail is
        already taken (callers upsert by finding first), writing nothing.
        """

    @abstractmethod
    def update_contacts(self, rows: Sequence[tuple[int, Mapping[str, Any]]], at: datetime) -> None:
        """Replace the fields of existing contacts ``(cid, fields)``, atomically."""

    # -- events ---------------------------------------------------------

    @abstractmethod
    def add_events(self, events: Sequence[NewEvent], at: datetime) -> int:
        """Record events received at ``at``; returns how many were new.

        An event whose ``id`` is already stored is ignored (idempotent
        delivery), also within the same call.
        """

    def add_events_for(self, cids: Sequence[int], type: str, at: datetime) -> int:
        """Record one event of ``type`` for each contact of ``cids``, in that order.

        Each occurred and was received at ``at``, has empty data and no id
        (``contact_created`` for contacts just inserted, say): what
        :meth:`add_events` records for ``NewEvent(cid, type, at)``, without
        building those. Atomic; returns how many were recorded (0 when
        ``cids`` is empty).
        """
        return self.add_events([NewEvent(cid, type, at) for cid in cids], at)

    @abstractmethod
    def known_event_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` belong to events stored already; empty when none do."""

    @abstractmethod
    def events_for(self, cid: int, *, limit: int = 1000) -> list[Mapping[str, Any]]:
        """A contact's events, oldest first: ``type``, ``at``, ``data``, ``id``."""

    # -- participants ---------------------------------------------------

    @abstractmethod
    def participant_counts(
        self,
        flow: str,
        *,
        since: date | None = None,
        until: date | None = None,
        due_by: datetime | None = None,
    ) -> dict[str, int]:
        """Participations of a flow by status (statuses with none are left out); with
        ``since``/``until``, those entered on those (UTC) days, both included. With
        ``due_by``, one waiting whose wait ends by then counts as ``active`` (spec §8:
        running or due), as ``flowctl participants`` shows it."""

    @abstractmethod
    def succeeded_count(
        self, flow: str, *, since: date | None = None, until: date | None = None
    ) -> int:
        """Participations of a flow that have succeeded; with ``since``/``until``, of
        those entered on those (UTC) days (so never more than entered)."""

    @abstractmethod
    def live_participants(self, flow: str) -> list[ParticipantState]:
        """A flow's ``active`` and ``waiting`` participants, oldest entry first."""

    @abstractmethod
    def update_participants(self, states: Sequence[ParticipantState]) -> None:
        """Write back existing participants (matched by :attr:`ParticipantState.id`), atomically."""

    # -- users and audit ------------------------------------------------

    @abstractmethod
    def users(self) -> dict[str, str]:
        """User name → role; empty for a single-user store."""

    @abstractmethod
    def set_user(self, name: str, role: str, at: datetime) -> bool:
        """Add a user or change its role; True when the user is new."""

    @abstractmethod
    def log(self, entry: AuditEntry) -> None:
        """Append to the audit log."""

    @abstractmethod
    def audit_log(self, *, limit: int = 100, since: datetime | None = None) -> list[AuditEntry]:
        """Audit entries, newest first."""


def iter_batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
