"""Participant state: rows, cancel, version migration, program compilation errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from flowctl.engine import ParticipantState, cancel, compile_flow, migrate, would_migrate
from flowctl.errors import InvalidValue
from tests.engine.helpers import T0, enter, flow

STEPS = [
    {"id": "d", "type": "delay", "duration": "2d"},
    {"id": "t", "type": "add_tag", "tag": "x"},
]


def test_state_row_round_trip() -> None:
    result, _ = enter(flow(STEPS))
    row = result.state.to_row()
    assert set(row) >= {"flow", "version", "contact", "status", "step", "due", "data"}
    assert ParticipantState.from_row(row) == result.state


def test_cancel_ends_live_participant_as_canceled() -> None:
    result, _ = enter(flow(STEPS))
    canceled = cancel(result.state, T0 + timedelta(hours=1))
    assert canceled.status == "canceled"
    assert canceled.due is None
    assert cancel(canceled, T0) is canceled


def test_migrate_keeps_wait_at_same_step_id() -> None:
    result, _ = enter(flow(STEPS))
    newer = compile_flow({**flow(STEPS).doc}, version=2)
    moved = migrate(result.state, newer, T0)
    assert moved.version == 2
    assert moved.status == "waiting"
    assert moved.due == result.state.due


def test_migrate_exits_when_step_removed() -> None:
    result, _ = enter(flow(STEPS))
    newer = flow([{"id": "other", "type": "add_tag", "tag": "x"}])
    assert would_migrate([result.state], newer) == {"migrate": 0, "step_removed": 1}
    moved = migrate(result.state, newer, T0)
    assert (moved.status, moved.reason) == ("exited", "step_removed")


def test_migrate_to_changed_step_type_reruns_step() -> None:
    result, _ = enter(flow(STEPS))
    newer = flow([{"id": "d", "type": "add_tag", "tag": "now"}])
    moved = migrate(result.state, newer, T0)
    assert (moved.status, moved.due) == ("active", None)


@pytest.mark.parametrize(
    "steps",
    [
        [{"id": "g", "type": "goto", "step": "nowhere"}],
        [{"id": "d", "type": "delay", "duration": "soon"}],
        [{"id": "d", "type": "delay"}],
        [{"id": "a", "type": "add_tag", "tag": "x"}, {"id": "a", "type": "end"}],
        [{"id": "s", "type": "split", "variants": [{"name": "a", "weight": 40, "steps": []}]}],
    ],
)
def test_compile_flow_rejects_unusable_flow(steps: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidValue):
        flow(steps)
