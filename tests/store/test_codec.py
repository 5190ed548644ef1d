"""How values are written in rows: compact JSON and fixed-width UTC instants."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from flowctl.store.codec import dumps, dumps_each, ts

VALUES: list[Any] = [
    {},
    [],
    "x",
    {"name": "Åse Ødegård", "quote": 'say "hi"\n', "line": "\u2028", "emoji": "🙂"},
    {"n": [1, -2, 2.5, 1e300, None, True, False], "deep": {"a": {"b": [{"c": {}}]}}},
    {"at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "2": "numeric key"},
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_writes_what_the_json_module_writes(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    assert dumps(value) == expected
    assert dumps_each([value, value]) == [expected, expected]


def test_ts_is_fixed_width_utc_and_equal_instants_write_the_same() -> None:
    oslo = timezone(timedelta(hours=1))
    local = datetime(2026, 3, 1, 10, 0, tzinfo=oslo)
    utc = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert ts(local) == ts(utc) == "2026-03-01T09:00:00.000000+00:00"
    later = utc + timedelta(microseconds=1)
    assert ts(later) == "2026-03-01T09:00:00.000001+00:00" and ts(later) > ts(utc)
