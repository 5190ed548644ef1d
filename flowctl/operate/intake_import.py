"""``contacts import`` in batches, each one store transaction (spec §11).

A batch's rows are checked first (outside the transaction), then its
contacts are matched by ``id``, else by e-mail (ignoring case), against the
store and the rows before them, and written with one insert, one update and
the batch's events in order: a ``contact_created`` event per created
contact, a ``contact_updated`` one (``data.set`` holding the new values) per
changed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final

from flowctl.errors import Refused
from flowctl.load.records import Record
from flowctl.operate.intake_checks import NO_DATA, Rejected, Rejection, check_contact
from flowctl.operate.intake_contacts import Contacts, Entry, changes, membership_events
from flowctl.store import NewEvent, Store

CREATED: Final = "contact_created"
UPDATED: Final = "contact_updated"


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


Change = tuple[Entry, str, Mapping[str, Any]]
"""An event an import records: ``(contact, type, data)``."""


class Importer:
    """Imports batches of contact rows into ``store``, counting into ``result``.

    While no batch has named a stored contact, a batch is first matched as if
    none did (the usual bulk load of new contacts), sparing the lookup of its
    keys: the store's unique keys refuse the insert if a new contact's key is
    taken, and the other keys the batch named (an e-mail changed later in the
    batch, a rejected row's) are looked up. If one is held, nothing has been
    written: the batch, and every later one, is done with lookups instead, to
    the result it would have had anyway.
    """

    def __init__(self, store: Store, now: datetime, result: ImportResult) -> None:
        self.store = store
        self.now = now
        self.result = result
        self.optimistic = True

    def batch(self, records: list[Record]) -> None:
        """Check the records, then create or update their contacts in one transaction."""
        rows: list[tuple[int, dict[str, Any]]] = []
        for record in records:
            try:
                if record.data is None:
                    raise Rejected(record.error or "cannot be read")
                rows.append((record.line, check_contact(record.data)))
            except Rejected as exc:
                self.result.rejected.append(Rejection(record.line, str(exc)))
        if not rows:
            return
        with self.store.transaction():
            done = self._upsert(rows, look_up=False) if self.optimistic else None
            if done is None:
                self.optimistic = False
                done = self._upsert(rows, look_up=True)
        assert done is not None
        self.result.created += done.created
        self.result.updated += done.updated
        self.result.unchanged += done.unchanged
        self.result.rejected += done.rejected

    def _upsert(self, rows: list[tuple[int, dict[str, Any]]], look_up: bool) -> ImportResult | None:
        """Match and write the rows; None, having written nothing, when a guess
        that no stored contact is named (``look_up`` False) proves wrong."""
        done = ImportResult()
        contacts = Contacts(self.store)
        if look_up:
            contacts.load(
                [f["id"] for _, f in rows if "id" in f],
                [f["email"] for _, f in rows if "email" in f],
            )
        by_id, by_email = contacts.by_id, contacts.by_email
        events: list[Change] = []
        plain = True  # every row a new contact with just its own keys
        for line, fields in rows:
            key = fields.get("id")
            email = fields.get("email")
            email_key = None if email is None else email.lower()
            if (key is None or key not in by_id) and email_key not in by_email:
                # No one holds either key, stored or earlier in the batch: a new contact.
                events.append((contacts.add(fields, key, email_key), CREATED, NO_DATA))
                continue
            plain = False
            try:
                self._change(contacts, fields, events, done)
            except Rejected as exc:
                done.rejected.append(Rejection(line, str(exc)))
        if not look_up and not plain and not self._unheld(contacts, rows):
            return None
        try:
            contacts.write(self.now)
        except Refused:
            if look_up:
                raise
            return None  # a key is taken: nothing was written
        _add_events(self.store, events, self.now)
        done.created += sum(1 for _, kind, _ in events if kind == CREATED)
        return done

    def _change(
        self, contacts: Contacts, fields: dict[str, Any], events: list[Change], done: ImportResult
    ) -> None:
        """The general case: a row naming a known contact (or conflicting keys)."""
        found = contacts.match(fields)
        if found is None:
            events.append((contacts.put(None, fields), CREATED, NO_DATA))
            return
        held = contacts.fields(found)
        changed = changes(held, fields)
        if not changed:
            done.unchanged += 1
            return
        contacts.put(found, {**held, **changed})
        events.append((found, UPDATED, {"set": changed}))
        events += [(found, kind, data) for kind, data in membership_events(held, changed)]
        done.updated += 1

    def _unheld(self, contacts: Contacts, rows: list[tuple[int, dict[str, Any]]]) -> bool:
        """Whether no stored contact holds a key the rows name but no new contact takes
        (an e-mail changed later in the batch, a rejected row's)."""
        ids = {f["id"] for _, f in rows if "id" in f}
        emails = {f["email"].lower() for _, f in rows if "email" in f}
        for entry in contacts.new:
            data = entry.data or {}
            ids.discard(data.get("id"))
            if isinstance(email := data.get("email"), str):
                emails.discard(email.lower())
        if not ids and not emails:
            return True
        by_id, by_email = self.store.contact_keys(ids, emails)
        return not by_id and not by_email


def _add_events(store: Store, events: list[Change], at: datetime) -> None:
    """Store the batch's events in order: each run of ``contact_created`` in one go."""
    created: list[int] = []
    others: list[NewEvent] = []
    for entry, kind, data in events:
        if kind == CREATED:
            if others:
                store.add_events(others, at)
                others = []
            created.append(entry.cid)
        else:
            if created:
                store.add_events_for(created, CREATED, at)
                created = []
            others.append(NewEvent(entry.cid, kind, at, data))
    if created:
        store.add_events_for(created, CREATED, at)
    if others:
        store.add_events(others, at)
