"""``flowctl report`` figures against a scenario whose outcome is known exactly.

The population of :mod:`tests.report.conftest` runs through the daemon on
fixed instants; every figure of the report is checked, then checked again
after the retention purge has deleted the step history and old events, and
for periods chosen with ``--since``/``--until``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flowctl.engine import STATUSES
from tests.daemon.conftest import Flowctl
from tests.report.conftest import FIRST, SECOND, WEDNESDAY, run_scenario, variant

REPORT_KEYS = {"flow", "participants", "succeeded", "success_rate", "statuses", "steps", "mailings"}
STEP_KEYS = {"reached", "outcomes", "pending"}
MAILING_KEYS = {"sent", "opened", "clicked"}


def count(group: list[str], name: str) -> int:
    return sum(1 for c in group if variant(c) == name)


def expected_all_time() -> dict[str, Any]:
    """The report of the whole run, worked out by hand from the scenario."""
    a, b = count(FIRST + SECOND, "a"), count(FIRST + SECOND, "b")
    opened_offer = f"offer-{variant('c04')}"
    return {
        "participants": 20,
        "succeeded": 1,
        "success_rate": 1 / 20,
        "statuses": {**dict.fromkeys(STATUSES, 0), "waiting": 8, "completed": 11, "succeeded": 1},
        "entries": {"2026-03-02": 12, "2026-03-03": 8, "2026-03-04": 0},
        "steps": {
            "welcome": {"reached": 20, "outcomes": {"sent": 20}, "pending": 0},
            "subject": {"reached": 20, "outcomes": {"a": a, "b": b}, "pending": 0},
            "offer-a": {"reached": a, "outcomes": {"sent": a}, "pending": 0},
            "offer-b": {"reached": b, "outcomes": {"sent": b}, "pending": 0},
            # c01 succeeded while waiting here: reached, with how it ended as the outcome
            "wait-2d": {"reached": 20, "outcomes": {"waited": 11, "succeeded": 1}, "pending": 8},
            "clicked": {"reached": 11, "outcomes": {"then": 2, "else": 9}, "pending": 0},
            "tag-engaged": {"reached": 2, "outcomes": {"done": 2}, "pending": 0},
            "tag-cold": {"reached": 9, "outcomes": {"done": 9}, "pending": 0},
        },
        "mailings": {
            "welcome": {"sent": 20, "opened": 1, "clicked": 0},
            **{
                name: {
                    "sent": a if name == "offer-a" else b,
                    "opened": int(name == opened_offer),
                    "clicked": sum(1 for c in ("c02", "c03") if f"offer-{variant(c)}" == name),
                }
                for name in ("offer-a", "offer-b")
            },
        },
    }


def figures(data: dict[str, Any]) -> dict[str, Any]:
    """The checked part of ``report -o json``: rates and step types left aside."""
    return {
        "participants": data["participants"],
        "succeeded": data["succeeded"],
        "success_rate": data["success_rate"],
        "statuses": data["statuses"],
        "entries": data["entries"],
        "steps": {k: {f: v[f] for f in STEP_KEYS} for k, v in data["steps"].items()},
        "mailings": {k: {f: v[f] for f in MAILING_KEYS} for k, v in data["mailings"].items()},
    }


def test_report_figures_match_the_known_scenario(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    data = flowctl.json("report", "ab-report")
    assert figures(data) == expected_all_time()
    assert list(data["steps"]) == [
        "welcome",
        "subject",
        "offer-a",
        "offer-b",
        "wait-2d",
        "clicked",
        "tag-engaged",
        "tag-cold",
    ]
    assert data["mailings"]["welcome"]["open_rate"] == 1 / 20


def test_report_json_has_the_spec_keys(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    data = flowctl.json("report", "ab-report")
    assert set(data) >= REPORT_KEYS
    assert data["flow"] == "ab-report"
    assert set(data["statuses"]) == set(STATUSES)
    assert all(isinstance(n, int) for n in data["statuses"].values())
    for step in data["steps"].values():
        assert set(step) >= STEP_KEYS
        assert all(isinstance(n, int) for n in step["outcomes"].values())
    for mailing in data["mailings"].values():
        assert set(mailing) >= MAILING_KEYS
    assert 0 <= data["success_rate"] <= 1


def test_report_same_after_retention_purge(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    before = flowctl.json("report", "ab-report")
    with flowctl.store() as store:
        assert store.history(flow="ab-report")  # Wednesday's daemon kept one day of it
        later = WEDNESDAY + timedelta(days=30)
        store.purge({"ab-report": later}, later)
        assert store.history(flow="ab-report") == []
        kept = {e["type"] for c in FIRST for e in _events(store, c)}
        assert "email_opened" not in kept  # old events of finished contacts are gone too
    after = flowctl.json("report", "ab-report")
    assert after == before
    assert flowctl.json("describe", "ab-report")["mailings"] == before["mailings"]


def _events(store: Any, contact: str) -> list[Any]:
    rows = store.find_contacts(ids=[contact])
    return list(store.events_for(rows[0].cid))


def test_report_since_a_day(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    data = flowctl.json("report", "ab-report", "--since", "2026-03-03")
    assert data["period"] == {"since": "2026-03-03", "until": None}
    assert data["entries"] == {"2026-03-03": 8, "2026-03-04": 0}
    # Of the participations entered in the period: c01, who bought on Tuesday, entered Monday.
    assert (data["participants"], data["succeeded"]) == (8, 0)
    assert data["success_rate"] == 0.0
    steps = data["steps"]
    assert steps["welcome"]["outcomes"] == {"sent": 8}
    assert steps["subject"]["outcomes"] == {"a": count(SECOND, "a"), "b": count(SECOND, "b")}
    assert steps["wait-2d"] == {
        "type": "delay",
        "reached": 20,  # waited on Wednesday, succeeded in it on Tuesday, and waiting now
        "outcomes": {"waited": 11, "succeeded": 1},
        "pending": 8,
    }
    assert data["statuses"]["waiting"] == 8  # statuses are always "now"
    assert data["mailings"]["welcome"] == {
        "sent": 8,
        "opened": 1,  # c00 opened on Tuesday
        "clicked": 0,
        "open_rate": 1 / 8,
        "click_rate": 0.0,
    }


def test_report_until_a_day(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    data = flowctl.json("report", "ab-report", "--until", "2026-03-02")
    assert data["entries"] == {"2026-03-02": 12}
    # c01 entered on Monday and succeeded later: a success of Monday's participations.
    assert (data["participants"], data["succeeded"], data["success_rate"]) == (12, 1, 1 / 12)
    assert data["steps"]["welcome"]["outcomes"] == {"sent": 12}
    # a period that ended before today: the 8 waiting now are not "reached" in it
    assert data["steps"]["wait-2d"] == {
        "type": "delay",
        "reached": 0,
        "outcomes": {},
        "pending": 8,
    }
    assert data["steps"]["clicked"]["outcomes"] == {"then": 0, "else": 0}
    assert data["mailings"]["welcome"]["opened"] == 0


def test_report_one_day_period_and_relative_since(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    day = flowctl.json("report", "ab-report", "--since", "2026-03-03", "--until", "2026-03-03")
    assert day["entries"] == {"2026-03-03": 8}
    assert (day["participants"], day["succeeded"]) == (8, 0)
    assert day["steps"]["clicked"]["outcomes"] == {"then": 0, "else": 0}
    relative = flowctl.json("report", "ab-report", "--since", "1d")  # now is Wednesday
    assert relative["period"]["since"] == "2026-03-03"
    assert relative["participants"] == 8


def test_report_statuses_and_describe_agree(flowctl: Flowctl) -> None:
    run_scenario(flowctl)
    report = flowctl.json("report", "ab-report")
    described = flowctl.json("describe", "ab-report")
    for key in ("participants", "succeeded", "success_rate", "statuses", "mailings"):
        assert described[key] == report[key], key
    listed = flowctl.json("get", "flows")[0]
    assert (listed["participants"], listed["success_rate"]) == (20, 0.05)
