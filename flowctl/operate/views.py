"""What ``get flows``, ``describe``, ``users`` and ``audit`` show: plain data from the store.

The functions here read the store and return lists and JSON-ready mappings;
the CLI (:mod:`flowctl.cli.views`) checks the viewing right and renders
them. Participant figures come from the store, so they stay zero until a
daemon has run.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from flowctl.errors import InvalidValue, NotFound, UsageError
from flowctl.operate.lookup import content_refs
from flowctl.operate.rights import MANAGE_USERS, ROLES, audit, authorize
from flowctl.report import build_report, report_json
from flowctl.store import ACTIVE, FLOW, FLOW_STATES, AuditEntry, FlowRow, Store
from flowctl.timeutil import isoformat, parse_duration, parse_instant

RECENT: Final = timedelta(days=7)
"""How far back ``get flows --recent`` looks for a change or a view."""


def list_flows(
    store: Store,
    *,
    state: str | None = None,
    running: bool = False,
    recent: bool = False,
    folder: str | None = None,
    search: str | None = None,
    now: datetime,
) -> list[FlowRow]:
    """The flows that pass every filter given, by name (newest first with ``recent``).

    ``running`` is state ``active``; ``recent`` keeps flows changed or shown
    within :data:`RECENT` of ``now``; ``folder`` keeps that folder and the
    ones below it; ``search`` matches name, title or description, ignoring
    case. Raises :class:`UsageError` for a state that does not exist.
    """
    if state is not None and state not in FLOW_STATES:
        raise UsageError(
            f"'{state}' is not a flow state", hint=f"use one of: {', '.join(FLOW_STATES)}"
        )
    rows = store.flows()
    if state is not None:
        rows = [r for r in rows if r.state == state]
    if running:
        rows = [r for r in rows if r.state == ACTIVE]
    if folder is not None:
        rows = [r for r in rows if in_folder(r.folder, folder)]
    if search:
        needle = search.casefold()
        rows = [r for r in rows if _matches(r, needle)]
    if recent:
        since = now - RECENT
        rows = sorted((r for r in rows if last_seen(r) >= since), key=last_seen, reverse=True)
    return rows


def in_folder(folder: str | None, wanted: str) -> bool:
    """Whether a flow in ``folder`` lies in ``wanted`` or below it (slashes at the ends ignored)."""
    base = wanted.strip("/")
    if not base:
        return True
    own = (folder or "").strip("/")
    return own == base or own.startswith(base + "/")


def last_seen(row: FlowRow) -> datetime:
    """The later of when a flow was last changed and last shown."""
    return max(row.updated_at, row.shown_at) if row.shown_at else row.updated_at


def _matches(row: FlowRow, needle: str) -> bool:
    return any(needle in (text or "").casefold() for text in (row.name, row.title, row.description))


def flow_json(row: FlowRow) -> dict[str, Any]:
    """One line of ``get flows -o json``."""
    return {
        "name": row.name,
        "title": row.title,
        "folder": row.folder,
        "state": row.state,
        "version": row.version,
        "participants": row.participants,
        "success_rate": row.success_rate,
        "updated": isoformat(row.updated_at),
    }


def describe_flow(store: Store, name: str, now: datetime) -> dict[str, Any]:
    """The overview ``describe`` shows, as JSON-ready data; marks the flow shown at ``now``.

    Participants, statuses, success rate and mailing stats are the all-time
    figures of ``flowctl report`` (:func:`~flowctl.report.build_report`).

    Raises :class:`NotFound`, with close names as the hint, for an unknown flow.
    """
    row = store.flow(name)
    doc = store.document(FLOW, name)
    if row is None or doc is None:
        raise NotFound(f"flow/{name} does not exist", hint=_flow_hint(store, name))
    meta = doc.metadata
    spec = doc.document.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    figures = build_report(store, name, now=now)
    versions = store.versions(FLOW, name)
    store.mark_shown(name, now)
    return {
        "name": row.name,
        "title": row.title,
        "description": row.description,
        "folder": row.folder,
        "labels": dict(meta.get("labels") or {}),
        "owner": meta.get("owner"),
        "state": row.state,
        "version": row.version,
        "versions": len(versions),
        "history": [
            {
                "version": v.version,
                "created_at": isoformat(v.created_at),
                "created_by": v.created_by,
                "hash": v.hash,
            }
            for v in versions
        ],
        "created_at": isoformat(row.created_at),
        "updated_at": isoformat(row.updated_at),
        "activated_at": _iso(row.activated_at),
        "activations": [
            {"started_at": isoformat(a.started_at), "ended_at": _iso(a.ended_at)}
            for a in store.activations(name)
        ],
        "triggers": list(spec.get("triggers") or []),
        "statuses": dict(figures.statuses),
        "participants": figures.participants,
        "succeeded": figures.succeeded,
        "success_rate": figures.success_rate,
        "mailings": report_json(figures)["mailings"],
        "content": [
            {"name": ref, "kind": kind, "applied": store.document(kind, ref) is not None}
            for kind, ref in content_refs(spec.get("steps"))
        ],
    }


def _flow_hint(store: Store, name: str) -> str:
    names = [r.name for r in store.flows()]
    similar = [n for n in names if name in n] + difflib.get_close_matches(name, names, n=3)
    close = list(dict.fromkeys(similar))[:3]
    if close:
        return f"did you mean {', '.join(close)}?"
    return "`flowctl get flows` lists the flows in the store"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else isoformat(moment)


# -- users and the audit log ---------------------------------------------------


def add_user(store: Store, name: str, role: str, *, now: datetime, user: str | None = None) -> bool:
    """Add a user or change its role (a flow-admin's right); True when the user is new.

    The change is written to the audit log. Anyone may add the first user.
    """
    if role not in ROLES:
        raise UsageError(f"'{role}' is not a role", hint=f"use one of: {', '.join(ROLES)}")
    name = name.strip()
    if not name:
        raise UsageError("a user needs a name", hint="flowctl users add NAME --role ROLE")
    actor = authorize(store, MANAGE_USERS, user)
    with store.transaction():
        created = store.set_user(name, role, now)
        audit(store, actor, "users add", f"user/{name}", now, detail=role)
    return created


def users_json(store: Store) -> list[dict[str, str]]:
    """The users and their roles, by name."""
    return [{"name": name, "role": role} for name, role in sorted(store.users().items())]


def parse_since(text: str, now: datetime) -> datetime:
    """``--since``: a duration back from ``now`` (``7d``) or an instant."""
    try:
        return now - abs(parse_duration(text))
    except InvalidValue:
        pass
    try:
        return parse_instant(text)
    except InvalidValue as exc:
        raise UsageError(
            f"--since '{text}' is neither a duration nor an instant",
            hint="write a duration such as 7d or 12h, or an instant 2026-11-22T09:00:00+01:00",
        ) from exc


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as ``audit -o json`` shows it."""
    return {
        "at": isoformat(entry.at),
        "user": entry.user,
        "command": entry.command,
        "object": entry.object,
        "detail": entry.detail,
    }
