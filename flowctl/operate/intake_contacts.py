"""The contacts one intake batch touches, held in memory while it runs.

They are read at once, matched by ``id`` or else by e-mail (ignoring case),
changed here and written at once (:meth:`Contacts.write`). A contact that
events only name by a key is read as that key alone
(:meth:`~flowctl.store.Store.contact_keys`), and held as its ``cid``: it
becomes an :class:`Entry` when something needs more, its fields read then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from flowctl.operate.intake_checks import Rejected
from flowctl.store import Store

_MISSING: Final = object()


class Entry:
    """A contact as the batch makes it: ``cid`` (0 until inserted) and its fields
    (None while only its keys were read)."""

    __slots__ = ("cid", "data")

    def __init__(self, cid: int, data: dict[str, Any] | None) -> None:
        self.cid = cid
        self.data = data


class Contacts:
    """The contacts one batch names: found at once, changed here, written at once.

    The indexes by id and by lower-case e-mail follow every change, so a later
    row in the batch matches what an earlier one made of a contact, and a
    clash with the store's unique keys is caught here, as a rejected row,
    instead of failing the whole batch in the database. They hold an entry,
    or the ``cid`` of a contact known by that key alone.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_id: dict[str, Entry | int] = {}
        self.by_email: dict[str, Entry | int] = {}
        self.new: list[Entry] = []
        self.changed: dict[int, Entry] = {}
        self._read: dict[int, Entry] = {}

    def load(self, ids: Iterable[str], emails: Iterable[str]) -> None:
        """Read the contacts holding these keys, with their fields."""
        for row in self.store.find_contacts(ids, emails):
            data = dict(row.data)
            entry = self._read[row.cid] = Entry(row.cid, data)
            if (key := data.get("id")) is not None:
                self.by_id[str(key)] = entry
            if (email := data.get("email")) is not None:
                self.by_email[str(email).lower()] = entry

    def load_keys(self, ids: Iterable[str], emails: Iterable[str]) -> None:
        """Note which contacts hold these keys, reading their fields only when needed."""
        by_id, by_email = self.store.contact_keys(ids, emails)
        # A key held already is the same contact's, read with its fields.
        self.by_id = {**by_id, **self.by_id}
        self.by_email = {**by_email, **self.by_email}

    def fields(self, entry: Entry) -> dict[str, Any]:
        """The contact's fields, read now if only its keys were."""
        if entry.data is None:
            row = self.store.contacts_by_cid([entry.cid]).get(entry.cid)
            entry.data = {} if row is None else dict(row.data)
        return entry.data

    def match(self, fields: Mapping[str, Any]) -> Entry | None:
        """The contact ``fields`` names (by id, else e-mail); None for a new one."""
        key = fields.get("id")
        email = fields.get("email")
        by_id = self._entry(self.by_id, key) if key is not None else None
        by_email = self._entry(self.by_email, email.lower()) if email is not None else None
        if by_id is not None:
            if by_email is not None and by_email is not by_id:
                raise Rejected(f"id '{key}' and e-mail '{email}' belong to two different contacts")
            return by_id
        if by_email is not None and key is not None:
            held = self.fields(by_email).get("id")
            if held is not None:
                raise Rejected(f"e-mail '{email}' belongs to the contact with id '{held}'")
        return by_email

    def add(self, data: dict[str, Any], key: str | None, email_key: str | None) -> Entry:
        """A new contact whose keys (``id``, lower-case e-mail) no one holds."""
        entry = Entry(0, data)
        if key is not None:
            self.by_id[key] = entry
        if email_key is not None:
            self.by_email[email_key] = entry
        self.new.append(entry)
        return entry

    def put(self, entry: Entry | None, data: dict[str, Any]) -> Entry:
        """Make ``data`` the fields of ``entry``, or of a new contact when None."""
        if entry is None:
            entry = Entry(0, data)
            self._claim(entry, None, data)
            self.new.append(entry)
            return entry
        self._claim(entry, self.fields(entry), data)
        entry.data = data
        if entry.cid:
            self.changed[entry.cid] = entry
        return entry

    def write(self, at: datetime) -> None:
        """Update the changed contacts, then insert the new ones (giving them their keys).

        In that order: a new contact may take a key a changed one gave up.
        """
        if self.changed:
            self.store.update_contacts([(e.cid, e.data or {}) for e in self.changed.values()], at)
        if self.new:
            cids = self.store.insert_contacts([e.data or {} for e in self.new], at)
            for entry, cid in zip(self.new, cids, strict=True):
                entry.cid = cid

    def _entry(self, index: dict[str, Entry | int], key: str) -> Entry | None:
        """The contact holding ``key`` in ``index``, made an entry if known by the key alone."""
        found = index.get(key)
        if not isinstance(found, int):
            return found
        entry = self._read.get(found)
        if entry is None:
            entry = self._read[found] = Entry(found, None)
        index[key] = entry
        return entry

    def _claim(self, entry: Entry, old: Mapping[str, Any] | None, data: Mapping[str, Any]) -> None:
        """Index ``entry`` by the keys in ``data``; Rejected when another contact holds one."""
        new_id = None if data.get("id") is None else str(data["id"])
        new_email = None if data.get("email") is None else str(data["email"]).lower()
        for key, index, what in ((new_id, self.by_id, "id"), (new_email, self.by_email, "e-mail")):
            holder = self._entry(index, key) if key is not None else None
            if holder is not None and holder is not entry:
                raise Rejected(f"{what} '{key}' belongs to another contact")
        if old is not None:
            if old.get("id") is not None and str(old["id"]) != new_id:
                self.by_id.pop(str(old["id"]), None)
            if old.get("email") is not None and str(old["email"]).lower() != new_email:
                self.by_email.pop(str(old["email"]).lower(), None)
        if new_id is not None:
            self.by_id[new_id] = entry
        if new_email is not None:
            self.by_email[new_email] = entry


MEMBERSHIP_EVENTS: Final = {
    "tags": ("tag", "tag_added", "tag_removed"),
    "campaigns": ("campaign", "campaign_subscribed", "campaign_unsubscribed"),
    "selections": ("selection", "selection_added", None),
    "projects": ("project", "project_added", None),
}
"""A list field, and the events a flow's action emits when it adds to it (or takes away)."""


def membership_events(
    held: Mapping[str, Any], changed: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The events a change of a contact's tags, campaigns, selections or projects
    means, ``(type, data)``, as a flow's ``add_tag`` … would emit them: an import or
    an event's contact fields that add a tag set off ``tag_added`` triggers too."""
    out: list[tuple[str, dict[str, Any]]] = []
    for field, (param, added, removed) in MEMBERSHIP_EVENTS.items():
        if field not in changed:
            continue
        before, after = _names(held.get(field)), _names(changed[field])
        out += [(added, {param: name}) for name in after if name not in before]
        if removed:
            out += [(removed, {param: name}) for name in before if name not in after]
    return out


def _names(value: Any) -> list[str]:
    """The names in a list field, each once."""
    return list(dict.fromkeys(map(str, value))) if isinstance(value, list | tuple) else []


def changes(held: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields whose values differ from the held ones (e-mail ignoring case)."""
    changed = {k: v for k, v in given.items() if held.get(k, _MISSING) != v}
    email = changed.get("email")
    # The e-mail a row is matched by may differ in case only: not a change.
    if email is not None and str(held.get("email", "")).lower() == email.lower():
        del changed["email"]
    return changed
