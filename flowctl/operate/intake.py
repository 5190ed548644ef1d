"""Contacts and events coming in (spec §11): bulk import, event ingest, one event sent.

Rows are checked one by one; a bad row becomes a :class:`Rejection` with its
line number and the good rows are kept. Work goes in batches, each one store
transaction: the contacts a batch names are found with one
:meth:`~flowctl.store.Store.find_contacts`, changed in memory, then written
with one insert, one update and one :meth:`~flowctl.store.Store.add_events`.
Nothing is queried per row, so 100,000 rows take seconds.

Contacts are matched by ``id``, else by e-mail (ignoring case). A created
contact gets a ``contact_created`` event and a changed one a
``contact_updated`` event (``data.set`` holds the new values), so flows
triggered by those react to imports as to any other source.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final, NamedTuple

from flowctl.engine.contacts import apply_event
from flowctl.engine.state import Event
from flowctl.errors import InputError, InvalidValue, NotFound, UsageError
from flowctl.load.records import LIST_COLUMNS, Record, read_records
from flowctl.operate.rights import INTAKE, VIEW, audit, authorize
from flowctl.store import ContactRow, NewEvent, Store
from flowctl.store.base import iter_batches
from flowctl.timeutil import get_zone, isoformat, parse_instant

BATCH_SIZE: Final = 5000
EVENT_KEYS: Final = ("type", "contact", "occurred_at", "id", "data")
_EVENT_KEYS: Final = frozenset(EVENT_KEYS)
_CHANGING: Final = frozenset({"tag_added", "tag_removed", "contact_updated"})
_MISSING: Final = object()
_NO_DATA: Final[Mapping[str, Any]] = {}

Progress = Callable[[int], None]
"""Called after each batch with the number of records done so far."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row left out, by its line in the input, and why."""

    line: int
    reason: str


@dataclass
class ImportResult:
    """What ``contacts import`` did, row by row (a repeated row counts each time)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``-o json`` keys)."""
        return asdict(self)


@dataclass
class IngestResult:
    """What ``event ingest`` did: events stored, ignored as repeats, and rows left out."""

    added: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``-o json`` keys)."""
        return asdict(self)


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
    elif _looks_like_email(ref):
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
    """One contact's :func:`contact_view`; :class:`NotFound` when there is none."""
    authorize(store, VIEW, user)
    return contact_view(find_contact(store, ref))


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

    with _audited(store, actor, "contacts import", "contacts", now, detail), _no_gc():
        done = 0
        for batch in iter_batches(records, batch_size):
            _import_batch(store, batch, now, result)
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
    batch_size: int = BATCH_SIZE,
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

    with _audited(store, actor, "event ingest", "events", now, detail), _no_gc():
        _ingest(store, records, now, result, batch_size, on_progress)
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
    _ingest(store, [Record(1, event)], now, result, 1, None)
    if result.rejected:
        raise InputError(f"event/{type} for {contact_ref}: {result.rejected[0].reason}")
    added = result.added == 1
    detail = f"{contact_ref}" + ("" if added else f", duplicate id {id}")
    audit(store, actor, "event send", f"event/{type}", now, detail)
    return SendResult(added, None if id is None else str(id), type, contact_ref)


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


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk run.

    A batch allocates tens of thousands of short-lived containers (rows,
    contacts, events) that form no cycles; their allocation keeps setting
    off collections that rescan every live object: 40% of the time of a
    100,000-row import, measured. Reference counting frees them all the same.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- one batch -----------------------------------------------------------------


def _import_batch(store: Store, batch: list[Record], now: datetime, result: ImportResult) -> None:
    rows: list[tuple[int, dict[str, Any]]] = []
    for record in batch:
        try:
            rows.append((record.line, _check_contact(_readable(record))))
        except _Rejected as exc:
            result.rejected.append(Rejection(record.line, str(exc)))
    if not rows:
        return
    with store.transaction():
        contacts = _Contacts(store, [fields for _, fields in rows])
        events: list[tuple[_Entry, str, Mapping[str, Any]]] = []
        for line, fields in rows:
            try:
                entry = contacts.match(fields)
                if entry is None:
                    events.append((contacts.put(None, fields), "contact_created", _NO_DATA))
                    result.created += 1
                    continue
                changed = _changes(entry.data, fields)
                if not changed:
                    result.unchanged += 1
                    continue
                contacts.put(entry, {**entry.data, **changed})
                events.append((entry, "contact_updated", {"set": changed}))
                result.updated += 1
            except _Rejected as exc:
                result.rejected.append(Rejection(line, str(exc)))
        contacts.write(now)
        store.add_events([NewEvent(e.cid, kind, now, data) for e, kind, data in events], now)


class _Incoming(NamedTuple):
    """A checked event; ``change`` is the normalized data of a contact-changing one."""

    line: int
    type: str
    contact: dict[str, Any]
    at: datetime
    id: str | None
    data: Mapping[str, Any]
    change: Mapping[str, Any] | None


def _ingest(
    store: Store,
    records: Iterable[Record],
    now: datetime,
    result: IngestResult,
    batch_size: int,
    on_progress: Progress | None,
) -> None:
    done = 0
    for batch in iter_batches(records, batch_size):
        incoming: list[_Incoming] = []
        for record in batch:
            try:
                incoming.append(_check_event(record.line, _readable(record), now))
            except _Rejected as exc:
                result.rejected.append(Rejection(record.line, str(exc)))
        if incoming:
            _ingest_batch(store, incoming, now, result)
        done += len(batch)
        if on_progress:
            on_progress(done)
    result.rejected.sort(key=lambda r: r.line)


def _ingest_batch(
    store: Store, incoming: list[_Incoming], now: datetime, result: IngestResult
) -> None:
    with store.transaction():
        # Inside the transaction, so a concurrent ingest of the same ids waits
        # for ours to commit and then sees them as duplicates.
        ids = [e.id for e in incoming if e.id is not None]
        seen = store.known_event_ids(ids) if ids else set()
        named = [e.contact for e in incoming]
        named += [e.change["set"] for e in incoming if e.change and "set" in e.change]
        contacts = _Contacts(store, named)
        pending: list[tuple[_Entry, str, datetime, Mapping[str, Any], str | None]] = []
        for event in incoming:
            if event.id is not None and event.id in seen:
                result.duplicates += 1
                continue
            try:
                _take_event(contacts, event, now, pending)
            except _Rejected as exc:
                result.rejected.append(Rejection(event.line, str(exc)))
                continue
            if event.id is not None:
                seen.add(event.id)
            result.added += 1
        contacts.write(now)
        store.add_events([NewEvent(e.cid, t, at, d, i) for e, t, at, d, i in pending], now)


def _take_event(
    contacts: _Contacts,
    event: _Incoming,
    now: datetime,
    pending: list[tuple[_Entry, str, datetime, Mapping[str, Any], str | None]],
) -> None:
    """Upsert the event's contact, apply the event to it, and queue the events to store."""
    entry = contacts.match(event.contact)
    changed: dict[str, Any] = {}
    if entry is None:
        data = event.contact
    else:
        changed = _changes(entry.data, event.contact)
        data = {**entry.data, **changed} if changed else entry.data
    if event.change is not None:
        after = apply_event(data, Event(event.type, event.at, event.change))
        if after is not data:
            if "id" not in after and "email" not in after:
                raise _Rejected("it would leave the contact with neither an id nor an email")
            data = dict(after)
    if entry is None or data is not entry.data:
        created = entry is None
        entry = contacts.put(entry, data)
        if created:
            pending.append((entry, "contact_created", now, _NO_DATA, None))
    if changed:
        pending.append((entry, "contact_updated", now, {"set": changed}, None))
    pending.append((entry, event.type, event.at, event.data, event.id))


# -- the contacts a batch touches --------------------------------------------------


class _Entry:
    """A contact as the batch makes it: ``cid`` (0 until inserted) and its fields."""

    __slots__ = ("cid", "data")

    def __init__(self, cid: int, data: dict[str, Any]) -> None:
        self.cid = cid
        self.data = data


class _Contacts:
    """The contacts one batch names: found with one query, changed here, written at once.

    The indexes by id and by lower-case e-mail follow every change, so a later
    row in the batch matches what an earlier one made of a contact, and a
    clash with the store's unique keys is caught here, as a rejected row,
    instead of failing the whole batch in the database.
    """

    def __init__(self, store: Store, named: Iterable[Mapping[str, Any]]) -> None:
        ids: list[str] = []
        emails: list[str] = []
        for fields in named:
            if "id" in fields:
                ids.append(fields["id"])
            if "email" in fields:
                emails.append(fields["email"])
        self.store = store
        self.by_id: dict[str, _Entry] = {}
        self.by_email: dict[str, _Entry] = {}
        self.new: list[_Entry] = []
        self.changed: dict[int, _Entry] = {}
        for row in store.find_contacts(ids, emails) if ids or emails else ():
            entry = _Entry(row.cid, dict(row.data))
            if (cid := entry.data.get("id")) is not None:
                self.by_id[str(cid)] = entry
            if (email := entry.data.get("email")) is not None:
                self.by_email[str(email).lower()] = entry

    def match(self, fields: Mapping[str, Any]) -> _Entry | None:
        """The contact ``fields`` names (by id, else e-mail); None for a new one."""
        cid = fields.get("id")
        email = fields.get("email")
        by_id = self.by_id.get(cid) if cid is not None else None
        by_email = self.by_email.get(email.lower()) if email is not None else None
        if by_id is not None:
            if by_email is not None and by_email is not by_id:
                raise _Rejected(f"id '{cid}' and e-mail '{email}' belong to two different contacts")
            return by_id
        if by_email is not None and cid is not None:
            held = by_email.data.get("id")
            if held is not None:
                raise _Rejected(f"e-mail '{email}' belongs to the contact with id '{held}'")
        return by_email

    def put(self, entry: _Entry | None, data: dict[str, Any]) -> _Entry:
        """Make ``data`` the fields of ``entry``, or of a new contact when None."""
        if entry is None:
            entry = _Entry(0, data)
            self._claim(entry, None, data)
            self.new.append(entry)
            return entry
        self._claim(entry, entry.data, data)
        entry.data = data
        if entry.cid:
            self.changed[entry.cid] = entry
        return entry

    def write(self, at: datetime) -> None:
        """Insert the new contacts (giving them their keys) and update the changed ones."""
        if self.new:
            cids = self.store.insert_contacts([e.data for e in self.new], at)
            for entry, cid in zip(self.new, cids, strict=True):
                entry.cid = cid
        if self.changed:
            self.store.update_contacts([(e.cid, e.data) for e in self.changed.values()], at)

    def _claim(self, entry: _Entry, old: Mapping[str, Any] | None, data: Mapping[str, Any]) -> None:
        """Index ``entry`` by the keys in ``data``; _Rejected when another contact holds one."""
        new_id = None if data.get("id") is None else str(data["id"])
        new_email = None if data.get("email") is None else str(data["email"]).lower()
        for key, index, what in ((new_id, self.by_id, "id"), (new_email, self.by_email, "e-mail")):
            holder = index.get(key) if key is not None else None
            if holder is not None and holder is not entry:
                raise _Rejected(f"{what} '{key}' belongs to another contact")
        if old is not None:
            if old.get("id") is not None and str(old["id"]) != new_id:
                self.by_id.pop(str(old["id"]), None)
            if old.get("email") is not None and str(old["email"]).lower() != new_email:
                self.by_email.pop(str(old["email"]).lower(), None)
        if new_id is not None:
            self.by_id[new_id] = entry
        if new_email is not None:
            self.by_email[new_email] = entry


def _changes(held: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    changed = {k: v for k, v in given.items() if held.get(k, _MISSING) != v}
    email = changed.get("email")
    # The e-mail a row is matched by may differ in case only: not a change.
    if email is not None and str(held.get("email", "")).lower() == email.lower():
        del changed["email"]
    return changed


# -- checking rows ---------------------------------------------------------------


class _Rejected(Exception):
    """A row that cannot be used; the message says why."""


def _readable(record: Record) -> dict[str, Any]:
    if record.data is None:
        raise _Rejected(record.error or "cannot be read")
    return record.data


def _check_event(line: int, data: Mapping[str, Any], now: datetime) -> _Incoming:
    if not data.keys() <= _EVENT_KEYS:
        unknown = [k for k in data if k not in _EVENT_KEYS]
        raise _Rejected(f"unknown key '{unknown[0]}'; an event has {', '.join(EVENT_KEYS)}")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise _Rejected("'type' must be a non-empty string")
    contact = data.get("contact")
    if not isinstance(contact, dict):
        raise _Rejected("'contact' must be an object with an 'id' or an 'email'")
    fields = _check_contact(contact)
    at = _instant(data["occurred_at"]) if data.get("occurred_at") is not None else now
    eid = data.get("id")
    if eid is not None:
        eid = _text(eid, "id")
    payload = data.get("data")
    if payload is None:
        payload = _NO_DATA
    elif not isinstance(payload, dict):
        raise _Rejected(f"'data' must be an object, not {_kind(payload)}")
    kind = kind.strip()
    change = _check_change(kind, payload) if kind in _CHANGING else None
    return _Incoming(line, kind, fields, at, eid, payload, change)


def _check_change(kind: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The data of a contact-changing event, checked like contact fields."""
    if kind != "contact_updated":
        if not isinstance(data.get("tag"), str) or not data["tag"]:
            raise _Rejected(f"{kind} needs the tag's name in data.tag")
        return data
    changes = data.get("set") or {}
    removed = data.get("unset") or []
    if not isinstance(changes, dict):
        raise _Rejected(f"data.set must be an object, not {_kind(changes)}")
    if not isinstance(removed, list) or not all(isinstance(f, str) for f in removed):
        raise _Rejected("data.unset must be a list of field names")
    fields = {str(k).removeprefix("contact."): v for k, v in changes.items()}
    return {"set": _check_fields(fields), "unset": [f.removeprefix("contact.") for f in removed]}


def _check_contact(data: Mapping[str, Any]) -> dict[str, Any]:
    """The contact's fields, checked and normalized; _Rejected names the first bad one."""
    fields = _check_fields(data)
    if "id" not in fields and "email" not in fields:
        raise _Rejected("a contact needs an 'id' or an 'email'")
    return fields


def _check_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    for key, check in _CHECK_ITEMS:  # fewer than a row's keys, mostly absent
        if key in data:
            fields[key] = check(data[key])
    return fields


def _text(value: Any, what: str) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Rejected(f"'{what}' must be a non-empty string or a number, not {value!r}")


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise _Rejected(f"'email' must be a string, not {_kind(value)}")
    text = value.strip()
    if not _looks_like_email(text):
        raise _Rejected(f"'{value}' is not an e-mail address")
    return text


def _looks_like_email(text: str) -> bool:
    local, _, domain = text.rpartition("@")
    return bool(local) and "." in domain.strip(".") and " " not in text


def _unsubscribed(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise _Rejected(f"'unsubscribed' must be true or false, not {value!r}")


def _strings(name: str) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise _Rejected(f"'{name}' must be a list of strings, not {value!r}")

    return check


_ZONES: dict[str, bool] = {}


def _timezone(value: Any) -> str:
    if isinstance(value, str):
        valid = _ZONES.get(value)
        if valid is None:  # looking a zone up costs a file read: once per name
            try:
                get_zone(value)
                valid = True
            except InvalidValue:
                valid = False
            _ZONES[value] = valid
        if valid:
            return value
    raise _Rejected(f"'timezone' {value!r} is not an IANA time zone, e.g. Europe/Oslo or UTC")


def _instant(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            with suppress(InvalidValue):  # the spellings fromisoformat does not take
                moment = parse_instant(value) if value.strip().endswith(("z", "Z")) else None
    if moment is not None and moment.tzinfo is not None:
        return moment
    raise _Rejected(
        f"'occurred_at' {value!r} is not an instant with an offset, "
        "e.g. 2026-11-22T09:00:00+01:00 or 2026-11-22T08:00:00Z"
    )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "id": lambda value: _text(value, "id"),
    "email": _email,
    "unsubscribed": _unsubscribed,
    "timezone": _timezone,
    **{name: _strings(name) for name in LIST_COLUMNS},
}
_CHECK_ITEMS: Final = tuple(_CHECKS.items())
