"""Where flowctl keeps flows, contacts, events, participants and the audit log.

:func:`open_store` turns a ``--store`` value into a :class:`Store`: a SQLite
path (or ``sqlite:///path``) for the embedded default, ``postgresql://…``
to scale out.
"""

from __future__ import annotations

import os
from pathlib import Path

from flowctl.errors import UsageError
from flowctl.store.base import Store
from flowctl.store.records import (
    ACTIVE,
    CONTENT_KINDS,
    DEACTIVATED,
    DRAFT,
    FLOW,
    FLOW_STATES,
    PAUSED,
    STORED_KINDS,
    Activation,
    AuditEntry,
    ContactRow,
    FlowRow,
    NewEvent,
    Pause,
    StoredDocument,
)

ENV = "FLOWCTL_STORE"
DEFAULT = "flowctl.db"

__all__ = [
    "ACTIVE",
    "CONTENT_KINDS",
    "DEACTIVATED",
    "DRAFT",
    "FLOW",
    "FLOW_STATES",
    "PAUSED",
    "STORED_KINDS",
    "Activation",
    "AuditEntry",
    "ContactRow",
    "FlowRow",
    "NewEvent",
    "Pause",
    "Store",
    "StoredDocument",
    "open_store",
    "store_url",
]


def store_url(given: str | None = None) -> str:
    """The store to use: ``given``, else ``FLOWCTL_STORE``, else ``flowctl.db`` here."""
    return given or os.environ.get(ENV, "").strip() or DEFAULT


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open (and create or upgrade) the store at ``url``.

    With ``create=False`` a SQLite file that does not exist yet is not
    created: an empty in-memory store stands in, so read-only commands on a
    fresh folder show nothing rather than leave a file behind.
    """
    url = store_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        try:  # psycopg loads only for PostgreSQL
            from flowctl.store.postgres import PostgresStore
        except ImportError as exc:
            raise UsageError(
                f"PostgreSQL stores need the psycopg package ({exc})",
                hint="pip install 'psycopg[binary]>=3.2'",
            ) from exc
        return PostgresStore(url)
    path = url.removeprefix("sqlite://") if url.startswith("sqlite:///") else url
    if "://" in path:
        raise UsageError(
            f"'{url}' is not a store location",
            hint="give a file path, sqlite:///path or postgresql://…",
        )
    from flowctl.store.sqlite import SqliteStore

    if not create and path != ":memory:" and not Path(path).expanduser().exists():
        if not Path(path).expanduser().resolve().parent.is_dir():
            raise UsageError(
                f"cannot open the store {path}: the folder {Path(path).parent} does not exist",
                hint="create the folder or point --store / FLOWCTL_STORE elsewhere",
            )
        return SqliteStore(":memory:", url=url)
    return SqliteStore(Path(path).expanduser() if path != ":memory:" else path, url=url)
