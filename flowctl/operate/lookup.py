"""Finding named objects in the store (with a helpful error when they are missing),
and the content a flow document refers to."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any, Final

from flowctl.errors import NotFound
from flowctl.store import CONTENT_KINDS, FlowRow, Store

_CONTENT_REFS: Final = {"send_email": ("mailing", "Mailing"), "send_sms": ("sms", "Sms")}
_BRANCHES: Final = ("then", "else", "on_timeout")


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


def content_refs(steps: Any) -> list[tuple[str, str]]:
    """``(kind, name)`` of every Mailing and Sms the steps send, branches included, once each."""
    found: dict[tuple[str, str], None] = {}
    for step in _iter_steps(steps):
        key, kind = _CONTENT_REFS.get(str(step.get("type")), ("", ""))
        ref = step.get(key) if key else None
        if isinstance(ref, str) and kind in CONTENT_KINDS:
            found[(kind, ref)] = None
    return list(found)


def _iter_steps(steps: Any) -> Iterator[Mapping[str, Any]]:
    """Every step mapping, depth first: decision branches, on_timeout, split variants."""
    if not isinstance(steps, list):
        return
    for step in steps:
        if not isinstance(step, Mapping):
            continue
        yield step
        for key in _BRANCHES:
            yield from _iter_steps(step.get(key))
        for variant in step.get("variants") or []:
            if isinstance(variant, Mapping):
                yield from _iter_steps(variant.get("steps"))
