"""``event ingest`` in batches, each one store transaction (spec §11).

Events are checked first (outside the transaction). Then the contacts a
batch names are read at once, by key alone for an event that only names its
contact (most do) and with their fields for one that may change it; unknown
contacts are created (with a ``contact_created`` event), given fields that
differ update the contact (``contact_updated``), and ``tag_added``,
``tag_removed`` and ``contact_updated`` events change it. An event whose
``id`` is stored already, or came earlier, is a duplicate: neither stored
nor applied again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flowctl.engine.contacts import apply_event
from flowctl.engine.state import Event
from flowctl.load.records import Record
from flowctl.operate.intake_checks import (
    NO_DATA,
    Incoming,
    Rejected,
    Rejection,
    batches,
    check_event,
)
from flowctl.operate.intake_contacts import Contacts, Entry, changes, membership_events
from flowctl.operate.intake_import import CREATED, UPDATED
from flowctl.store import NewEvent, Store


@dataclass
class IngestResult:
    """What ``event ingest`` did: events stored, ignored as repeats, and rows left out."""

    added: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``-o json`` keys)."""
        return asdict(self)


def ingest(
    store: Store,
    records: Iterable[Record],
    now: datetime,
    result: IngestResult,
    batch_size: int,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Check and record ``records`` in batches of ``batch_size``, counting into ``result``."""
    done = 0
    for batch in batches(records, batch_size):
        incoming: list[Incoming] = []
        for line, data, error in batch:
            try:
                if data is None:
                    raise Rejected(error or "cannot be read")
                incoming.append(check_event(line, data, now))
            except Rejected as exc:
                result.rejected.append(Rejection(line, str(exc)))
        if incoming:
            ingest_batch(store, incoming, now, result)
        done += len(batch)
        if on_progress:
            on_progress(done)
    result.rejected.sort(key=lambda r: r.line)


class Pending:
    """The events to store, in order. Those of contacts the batch creates get the
    contact's ``cid`` once :meth:`Contacts.write` gives it (:meth:`resolve`)."""

    __slots__ = ("events", "unresolved")

    def __init__(self) -> None:
        self.events: list[NewEvent] = []
        self.unresolved: list[tuple[int, Entry]] = []

    def add(
        self, entry: Entry, kind: str, at: datetime, data: Mapping[str, Any], eid: str | None
    ) -> None:
        """Queue an event of the contact ``entry``."""
        if not entry.cid:
            self.unresolved.append((len(self.events), entry))
        self.events.append(NewEvent(entry.cid, kind, at, data, eid))

    def resolve(self) -> list[NewEvent]:
        """The events, each with its contact's ``cid`` (after :meth:`Contacts.write`)."""
        events = self.events
        for index, entry in self.unresolved:
            events[index] = events[index]._replace(cid=entry.cid)
        return events


def ingest_batch(
    store: Store, incoming: list[Incoming], now: datetime, result: IngestResult
) -> None:
    """Record checked events, creating and changing their contacts, in one transaction."""
    with store.transaction():
        # Inside the transaction, so a concurrent ingest of the same ids waits
        # for ours to commit and then sees them as duplicates.
        ids = [e[4] for e in incoming if e[4] is not None]
        seen = store.known_event_ids(ids) if ids else set()
        contacts = Contacts(store)
        _load_named(contacts, incoming)
        by_id, by_email = contacts.by_id, contacts.by_email
        pending = Pending()
        events = pending.events
        for event in incoming:
            line, kind, fields, at, eid, payload, change = event
            if eid is not None and eid in seen:
                result.duplicates += 1
                continue
            named = None
            if change is None and len(fields) == 1:
                email = fields.get("email")
                named = by_id.get(fields["id"]) if email is None else by_email.get(email.lower())
            if type(named) is int:
                # Known by the one key it is named by, nothing else given: unchanged.
                events.append(NewEvent(named, kind, at, payload, eid))
            else:
                try:
                    _take_event(contacts, event, now, pending)
                except Rejected as exc:
                    result.rejected.append(Rejection(line, str(exc)))
                    continue
            if eid is not None:
                seen.add(eid)
            result.added += 1
        contacts.write(now)
        store.add_events(pending.resolve(), now)


def _load_named(contacts: Contacts, incoming: list[Incoming]) -> None:
    """Read the contacts the events name: fields for those that may change, else keys."""
    ids: list[str] = []
    emails: list[str] = []
    key_ids: list[str] = []
    key_emails: list[str] = []
    for _, _, fields, _, _, _, change in incoming:
        if change is None and len(fields) == 1:
            (key_ids if "id" in fields else key_emails).append(next(iter(fields.values())))
            continue
        if "id" in fields:
            ids.append(fields["id"])
        if "email" in fields:
            emails.append(fields["email"])
        taken = change.get("set") if change else None
        if taken:  # keys it gives the contact: refused if another one holds them
            if "id" in taken:
                key_ids.append(taken["id"])
            if "email" in taken:
                key_emails.append(taken["email"])
    if ids or emails:
        contacts.load(ids, emails)
    if key_ids or key_emails:
        contacts.load_keys(key_ids, key_emails)


def _take_event(contacts: Contacts, event: Incoming, now: datetime, pending: Pending) -> None:
    """Upsert the event's contact, apply the event to it, and queue the events to store."""
    _, kind, fields, at, eid, payload, change = event
    entry = contacts.match(fields)
    changed: dict[str, Any] = {}
    held: Mapping[str, Any] = {}
    if entry is None:
        data = fields
    else:
        held = contacts.fields(entry)
        changed = changes(held, fields)
        data = {**held, **changed} if changed else held
    if change is not None:
        after = apply_event(data, Event(kind, at, change))
        if after is not data:
            if "id" not in after and "email" not in after:
                raise Rejected("it would leave the contact with neither an id nor an email")
            data = dict(after)
    if entry is None or data is not entry.data:
        created = entry is None
        entry = contacts.put(entry, data)
        if created:
            pending.add(entry, CREATED, now, NO_DATA, None)
    if changed:
        pending.add(entry, UPDATED, now, {"set": changed}, None)
        ours = (kind, dict(payload))  # the event itself says it already
        for t, d in membership_events(held, changed):
            if (t, d) != ours:
                pending.add(entry, t, now, d, None)
    pending.add(entry, kind, at, payload, eid)
