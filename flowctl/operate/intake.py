"""Contacts and events coming in (spec §11): bulk import, event ingest, one event sent.

Rows are checked one by one (:mod:`~flowctl.operate.intake_checks`); a bad
row becomes a :class:`Rejection` with its line number and the good rows are
kept. Work goes in batches, each one store transaction
(:mod:`~flowctl.operate.intake_import`, :mod:`~flowctl.operate.intake_ingest`):
the contacts a batch names are read at once
(:mod:`~flowctl.operate.intake_contacts`), changed in memory, then written
with one insert, one update and the batch's events. Nothing is queried per
row, so 100,000 rows take about a second.

Contacts are matched by ``id``, else by e-mail (ignoring case). A created
contact gets a ``contact_created`` event and a changed one a
``contact_updated`` event (``data.set`` holds the new values), so flows
triggered by those react to imports as to any other source.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

from flowctl.errors import InputError, NotFound, UsageError
from flowctl.gcpause import paused_gc
from flowctl.load.records import LIST_COLUMNS, Record, read_records
from flowctl.operate.intake_checks import EVENT_KEYS, Rejection, batches, looks_like_email
from flowctl.operate.intake_import import Importer, ImportResult
from flowctl.operate.intake_ingest import IngestResult, ingest
from flowctl.operate.rights import INTAKE, VIEW, audit, authorize
from flowctl.store import ContactRow, Store
from flowctl.timeutil import isoformat

__all__ = [
    "BATCH_SIZE",
    "EVENT_BATCH_SIZE",
    "EVENT_KEYS",
    "ImportResult",
    "IngestResult",
    "Rejection",
    "SendResult",
    "contact_records",
    "contact_view",
    "find_contact",
    "import_contacts",
    "ingest_events",
    "list_contacts",
    "parse_ref",
    "send_event",
    "show_contact",
]

BATCH_SIZE: Final = 20_000
"""Contact rows per import transaction: each holds the write lock for about 0.2 s."""
EVENT_BATCH_SIZE: Final = 50_000
"""Events per ingest transaction: each holds the write lock for about 0.8 s. Fewer,
larger transactions write less: each commit writes every index page its events
touched, and events touch pages all over the ``(cid, occurred_at)`` and ``id``
indexes (10,000 per transaction wrote two and a half times the bytes of one
transaction of 100,000)."""

Progress = Callable[[int], None]
"""Called after each batch with the number of records done so far."""


@dataclass(frozen=True)
class SendResult:
    """One event sent: ``added`` is False when its ``id`` was recorded already."""

    added: bool
    id: str | None
    type: str
    contact: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``-o json`` keys)."""
        return asdict(self)


# -- finding and showing contacts -------------------------------------------


def parse_ref(text: str) -> tuple[str, str]:
    """A contact reference: ``id:VALUE`` → ``("id", VALUE)``, an e-mail → ``("email", it)``.

    Raises :class:`UsageError` for anything else.
    """
    ref = text.strip()
    if ref.startswith("id:"):
        value = ref[3:].strip()
        if value:
            return "id", value
    elif looks_like_email(ref):
        return "email", ref
    raise UsageError(
        f"'{text}' is not a contact reference",
        hint="give an e-mail address or id:VALUE, e.g. ann@example.com or id:42",
    )


def find_contact(store: Store, ref: str) -> ContactRow:
    """The contact ``ref`` names; :class:`NotFound` when there is none."""
    kind, value = parse_ref(ref)
    rows = store.find_contacts(ids=[value]) if kind == "id" else store.find_contacts(emails=[value])
    if not rows:
        raise NotFound(
            f"there is no contact {ref} in the store",
            hint="`flowctl contacts list` lists them; `flowctl contacts import` adds them",
        )
    return rows[0]


def contact_view(row: ContactRow) -> dict[str, Any]:
    """A contact as ``contacts show -o json`` gives it: the list fields always present."""
    view: dict[str, Any] = {"id": None, "email": None, **row.data}
    for name in LIST_COLUMNS:
        held = view.get(name)
        view[name] = list(held) if isinstance(held, list | tuple) else []
    view["created_at"] = isoformat(row.created_at)
    view["updated_at"] = isoformat(row.updated_at)
    return view


def list_contacts(
    store: Store, *, limit: int = 100, offset: int = 0, user: str | None = None
) -> tuple[list[ContactRow], int]:
    """Contacts in the order they were created, and how many there are in all."""
    authorize(store, VIEW, user)
    return store.contacts(limit=limit, offset=offset), store.count_contacts()


def show_contact(store: Store, ref: str, user: str | None = None) -> dict[str, Any]:
    """One contact's :func:`contact_view`, and under ``created_by_flows`` what flows'
    actions made for it (sales, activities, appointments, tickets, notifications,
    course changes), oldest first; :class:`NotFound` when there is none."""
    authorize(store, VIEW, user)
    row = find_contact(store, ref)
    view = contact_view(row)
    view["created_by_flows"] = [
        {
            "kind": o["kind"],
            "flow": o["flow"],
            "step": o["step"],
            "created_at": isoformat(o["created_at"]),
            "data": o["data"],
        }
        for o in store.crm_objects(row.cid)
    ]
    return view


# -- reading input -------------------------------------------------------------


def contact_records(path: Path | str, stream: IO[str] | None = None) -> Iterator[Record]:
    """The rows of a contacts file (:func:`~flowctl.load.records.read_records`).

    A CSV whose header has neither an ``id`` nor an ``email`` column is
    refused here, before any row is read, with :class:`InputError`: no row
    of it could ever match or create a contact.
    """
    name = str(path)
    if stream is None and name.lower().endswith(".csv"):
        columns = _csv_header(Path(path))
        if columns is not None and not {"id", "email"} & columns:
            raise InputError(
                f"{name} has neither an 'email' nor an 'id' column",
                hint="contacts are matched by id or e-mail: add one of them to the header row",
            )
    return read_records(path, stream)


def _csv_header(path: Path) -> set[str] | None:
    """The header's column names; None when unreadable (read_records then says why)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            header = next(csv.reader(stream), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return {h.strip() for h in header} if header and any(h.strip() for h in header) else None


# -- import and ingest ---------------------------------------------------------


def import_contacts(
    store: Store,
    records: Iterable[Record],
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
    on_progress: Progress | None = None,
    user: str | None = None,
) -> ImportResult:
    """Create or update a contact per record (upsert by id, else by e-mail).

    Given fields replace the stored ones, others are kept; a row repeated
    later in the input updates what the earlier row wrote. Read records with
    :func:`contact_records` so a CSV that cannot name contacts is refused.
    """
    actor = authorize(store, INTAKE, user)
    result = ImportResult()

    def detail() -> str:
        return (
            f"created {result.created}, updated {result.updated}, rejected {len(result.rejected)}"
        )

    importer = Importer(store, now, result)
    with _audited(store, actor, "contacts import", "contacts", now, detail), _bulk(store):
        done = 0
        for batch in batches(records, batch_size):
            importer.batch(batch)
            done += len(batch)
            if on_progress:
                on_progress(done)
    result.rejected.sort(key=lambda r: r.line)
    return result


def ingest_events(
    store: Store,
    records: Iterable[Record],
    now: datetime,
    *,
    batch_size: int = EVENT_BATCH_SIZE,
    on_progress: Progress | None = None,
    user: str | None = None,
) -> IngestResult:
    """Record events ``{type, contact, occurred_at?, id?, data?}``, bad ones skipped.

    Unknown contacts are created; ``tag_added``, ``tag_removed`` and
    ``contact_updated`` change the contact. An event whose ``id`` is stored
    already, or came earlier in the input, is a duplicate: neither stored
    nor applied again.
    """
    actor = authorize(store, INTAKE, user)
    result = IngestResult()

    def detail() -> str:
        return (
            f"added {result.added}, duplicates {result.duplicates}, rejected {len(result.rejected)}"
        )

    with _audited(store, actor, "event ingest", "events", now, detail), _bulk(store):
        ingest(store, records, now, result, batch_size, on_progress)
    return result


def send_event(
    store: Store,
    type: str,
    contact_ref: str,
    data: Mapping[str, Any],
    at: datetime | None,
    id: str | None,
    now: datetime,
    *,
    user: str | None = None,
) -> SendResult:
    """Record one event for the contact ``contact_ref`` (created when unknown).

    Raises :class:`InputError` when the event is not valid.
    """
    actor = authorize(store, INTAKE, user)
    kind, value = parse_ref(contact_ref)
    event: dict[str, Any] = {"type": type, "contact": {kind: value}, "data": dict(data)}
    if at is not None:
        event["occurred_at"] = at
    if id is not None:
        event["id"] = id
    result = IngestResult()
    ingest(store, [Record(1, event)], now, result, 1, None)
    if result.rejected:
        raise InputError(f"event/{type} for {contact_ref}: {result.rejected[0].reason}")
    added = result.added == 1
    detail = f"{contact_ref}" + ("" if added else f", duplicate id {id}")
    audit(store, actor, "event send", f"event/{type}", now, detail)
    return SendResult(added, None if id is None else str(id), type, contact_ref)


@contextmanager
def _bulk(store: Store) -> Iterator[None]:
    """A bulk job: the store in its bulk mode, the cyclic garbage collector paused."""
    with store.bulk(), paused_gc():
        yield


@contextmanager
def _audited(
    store: Store, user: str, command: str, obj: str, at: datetime, detail: Callable[[], str]
) -> Iterator[None]:
    """One audit entry for the whole call, written also when it stops half-way."""
    try:
        yield
    except BaseException:
        # The batches committed before the failure stay: the log must say so,
        # and a failing log must not hide the error that stopped the run.
        with suppress(Exception):
            audit(store, user, command, obj, at, detail() + " (stopped by an error)")
        raise
    audit(store, user, command, obj, at, detail())
