"""Success criteria and exit_when (spec §7, §3)."""

from __future__ import annotations

from datetime import timedelta

from flowctl.engine import Event, advance, consider_entry
from tests.engine.helpers import T0, contact, enter, flow, outcomes, resume

WAIT = [
    {"id": "d", "type": "delay", "duration": "5d"},
    {"id": "after", "type": "add_tag", "tag": "after"},
]


def test_success_event_before_entry_does_not_count() -> None:
    program = flow(WAIT, success={"when": {"event": "sale_created"}})
    earlier = Event("sale_created", T0 - timedelta(days=1), {})
    entry = Event("manual", T0, {})
    decision = consider_entry(program, entry, contact(), T0)
    assert decision.state is not None
    result = advance(program, decision.state, contact(), [earlier, entry], T0)
    assert result.state.status == "waiting"
    assert result.state.succeeded_at is None


def test_success_on_event_while_waiting_stops_with_transfer() -> None:
    program = flow(
        WAIT,
        success={"when": {"event": "sale_created", "offer": "o2"}, "transfer_to": "onboarding"},
    )
    result, events = enter(program)
    sale = Event("sale_created", T0 + timedelta(days=1), {"offer": "o2"})
    later = resume(program, result, [*events, sale], now=sale.at)
    assert later.state.status == "succeeded"
    assert later.state.succeeded_at == sale.at
    assert later.state.due is None
    assert [(e.type, e.params) for e in later.effects] == [("transfer", {"flow": "onboarding"})]


def test_success_continue_keeps_going_and_is_marked_once() -> None:
    program = flow(
        [
            {"id": "sale", "type": "create_sale", "title": "x"},
            {"id": "t", "type": "add_tag", "tag": "x"},
            {"id": "t2", "type": "add_tag", "tag": "y"},
        ],
        success={"when": {"event": "sale_created"}, "on_success": "continue"},
    )
    result, _ = enter(program)
    assert result.state.status == "completed"
    assert result.state.succeeded_at == T0
    assert [h.type for h in result.history].count("success") == 1


def test_success_met_by_last_action_is_recorded_before_completing() -> None:
    program = flow(
        [{"id": "sale", "type": "create_sale", "title": "x"}],
        success={"when": {"event": "sale_created"}},
    )
    result, _ = enter(program)
    assert result.state.status == "succeeded"


def test_exit_when_checked_before_each_step() -> None:
    program = flow(
        [
            {"id": "a", "type": "update_contact", "set": {"unsubscribed": True}},
            {"id": "b", "type": "add_tag", "tag": "x"},
        ],
        exit_when={"field": "contact.unsubscribed", "eq": True},
    )
    result, _ = enter(program)
    assert outcomes(result) == [("a", "done"), (None, "exited")]
    assert result.state.status == "exited"
    assert result.state.reason == "exit_when"
    assert result.state.step == "a"
