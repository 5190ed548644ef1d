"""Finding named objects in the store, with a helpful error when they are missing."""

from __future__ import annotations

import difflib

from flowctl.errors import NotFound
from flowctl.store import FlowRow, Store


def require_flow(store: Store, name: str) -> FlowRow:
    """The flow ``name``, or :class:`NotFound` suggesting a close name."""
    row = store.flow(name)
    if row is None:
        raise unknown_flow(store, name)
    return row


def unknown_flow(store: Store, name: str) -> NotFound:
    """The error for a flow that is not in the store."""
    names = [f.name for f in store.flows()]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "`flowctl get flows` lists the flows"
    return NotFound(f"there is no flow '{name}' in the store", hint=hint)
