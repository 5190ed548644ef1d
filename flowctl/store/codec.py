"""How values are written in SQL rows: instants as fixed-width UTC text, JSON text."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from flowctl.engine.state import ParticipantState
from flowctl.store.records import ContactRow


def ts(moment: datetime) -> str:
    """An instant as fixed-width UTC text (text order is time order)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def ts_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else ts(moment)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def instant_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def dumps(value: Any) -> str:
    """Compact JSON (non-JSON values such as instants as text)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def participant(row: sqlite3.Row) -> ParticipantState:
    """A participant row back as engine state."""
    fields = dict(row)
    fields["data"] = json.loads(fields["data"])
    return ParticipantState.from_row(fields)


def contact_row(row: sqlite3.Row) -> ContactRow:
    return ContactRow(
        cid=row["cid"],
        data=json.loads(row["data"]),
        created_at=instant(row["created_at"]),
        updated_at=instant(row["updated_at"]),
    )
