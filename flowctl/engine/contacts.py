"""How incoming events change a contact (spec §11), as a pure function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowctl.engine.state import Event


def apply_event(contact: Mapping[str, Any], event: Event) -> Mapping[str, Any]:
    """The contact after ``event``: ``tag_added``/``tag_removed`` change its tags,
    ``contact_updated`` applies ``data.set`` and ``data.unset``.

    Returns the same object when the event changes nothing, else a new dict.
    """
    data = event.data
    if event.type in ("tag_added", "tag_removed") and data.get("tag") is not None:
        tag = str(data["tag"])
        held = contact.get("tags")
        tags = list(held) if isinstance(held, list | tuple | set | frozenset) else []
        if (tag in tags) == (event.type == "tag_added"):
            return contact
        updated = dict(contact)
        updated["tags"] = (
            [*tags, tag] if event.type == "tag_added" else [t for t in tags if t != tag]
        )
        return updated
    if event.type == "contact_updated" and (data.get("set") or data.get("unset")):
        updated = dict(contact)
        changes = data.get("set")
        if isinstance(changes, Mapping):
            for field, value in changes.items():
                updated[str(field).removeprefix("contact.")] = value
        for field in data.get("unset") or ():
            updated.pop(str(field).removeprefix("contact."), None)
        return updated
    return contact
