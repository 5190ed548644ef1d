"""forecast(): a population through a flow."""

from __future__ import annotations

import pytest

from flowctl.simulate import forecast, population
from tests.simulate.test_simulate import PROGRAM, START


def _people(n: int) -> list[object]:
    return [
        {"id": str(i), "email": f"c{i}@x.io", "tags": ["customer-2"] if i % 4 == 0 else []}
        for i in range(n)
    ]


def test_forecast_counts_enrolled_steps_and_outcomes() -> None:
    result = forecast(PROGRAM, _people(100), START, "30d", workers=1).to_dict()
    assert result["participants"] == 100
    assert result["enrolled"] == 75
    assert result["steps"]["sub-c1"]["reached"] == 75
    assert result["steps"]["bought-offer-1"]["outcomes"] == {"else": 75}
    assert result["steps"]["unsub-c1"]["reached"] == 0


def test_forecast_horizon_leaves_participants_pending() -> None:
    result = forecast(PROGRAM, _people(8), START, "1d", workers=1)
    assert result.steps["give-them-time"].pending == 6
    assert result.statuses == {"waiting": 6}


def test_forecast_reports_bad_rows_and_goes_on() -> None:
    rows = [{"email": "a@x.io"}, "garbage", {"tags": []}]
    result = forecast(PROGRAM, rows, START, "30d", workers=1)
    assert result.participants == 1
    assert [row for row, _ in result.rejected] == [2, 3]


def test_forecast_parallel_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(population, "CHUNK", 10)
    serial = forecast(PROGRAM, _people(55), START, "30d", workers=1).to_dict()
    parallel = forecast(PROGRAM, _people(55), START, "30d", workers=2).to_dict()
    assert serial == parallel
