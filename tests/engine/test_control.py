"""Control steps: delay, wait_until, decision, split, goto, end, the step limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flowctl.engine import STEP_LIMIT, Event, advance, consider_entry, split_bucket
from tests.engine.helpers import T0, contact, enter, flow, outcomes, resume


def test_delay_duration_waits_then_goes_on() -> None:
    program = flow(
        [{"id": "d", "type": "delay", "duration": "2d"}, {"id": "t", "type": "add_tag", "tag": "x"}]
    )
    result, events = enter(program)
    assert result.state.status == "waiting"
    assert result.state.due == T0 + timedelta(days=2)
    early = resume(program, result, events, now=T0 + timedelta(days=1))
    assert early.state == result.state
    assert early.history == ()
    later = resume(program, result, events)
    assert outcomes(later) == [("d", "waited"), ("t", "done")]
    assert later.state.status == "completed"
    assert later.state.due is None


def test_delay_until_time_equal_to_now_does_not_wait() -> None:
    program = flow([{"id": "d", "type": "delay", "until": "08:00"}])
    result, _ = enter(program)
    assert outcomes(result) == [("d", "waited")]
    assert result.state.status == "completed"


def test_delay_until_time_with_days_waits_for_next_allowed_day() -> None:
    program = flow([{"id": "d", "type": "delay", "until": "07:00", "days": ["wed"]}])
    result, _ = enter(program)  # Monday 08:00
    assert result.state.due == datetime(2026, 3, 4, 7, 0, tzinfo=UTC)


def test_delay_until_date_with_offset_and_past_date() -> None:
    program = flow([{"id": "d", "type": "delay", "until_date": "contact.renewal", "offset": "-1d"}])
    future, _ = enter(program, contact(renewal="2026-03-10"))
    assert future.state.due == datetime(2026, 3, 9, tzinfo=UTC)
    past, _ = enter(program, contact(renewal="2026-01-01"))
    assert [(h.outcome, h.detail) for h in past.history] == [("waited", "past")]
    missing, _ = enter(program)
    assert [(h.outcome, h.detail) for h in missing.history] == [("waited", "no_date")]


def test_delay_until_date_reads_the_trigger_and_the_company_too() -> None:
    steps = [{"id": "d", "type": "delay", "until_date": "trigger.starts_at", "offset": "-1h"}]
    program = flow(steps, triggers=[{"type": "webinar_registered"}])
    event = Event("webinar_registered", T0, {"webinar": "w1", "starts_at": "2026-03-10T18:00:00Z"})
    decision = consider_entry(program, event, contact(), T0)
    assert decision.state is not None
    result = advance(program, decision.state, contact(), [event], T0)
    assert result.state.due == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    renewal = flow([{"id": "d", "type": "delay", "until_date": "company.renewal"}])
    result, _ = enter(renewal, contact(company={"name": "Acme", "renewal": "2026-04-01"}))
    assert result.state.due == datetime(2026, 4, 1, tzinfo=UTC)


def test_wait_until_already_true_is_met_at_once() -> None:
    program = flow([{"id": "w", "type": "wait_until", "condition": {"tag": "a"}, "timeout": "1d"}])
    result, _ = enter(program, contact(tags=["a"]))
    assert outcomes(result) == [("w", "met")]
    assert result.state.status == "completed"


def test_wait_until_met_by_arriving_event() -> None:
    program = flow(
        [
            {
                "id": "w",
                "type": "wait_until",
                "condition": {"event": "form_submitted"},
                "timeout": "3d",
            }
        ]
    )
    result, events = enter(program)
    assert result.state.status == "waiting"
    arrival = Event("form_submitted", T0 + timedelta(hours=5), {"form": "f"})
    later = resume(program, result, [*events, arrival], now=arrival.at)
    assert outcomes(later) == [("w", "met")]


def test_wait_until_timeout_runs_on_timeout_then_goes_on() -> None:
    program = flow(
        [
            {
                "id": "w",
                "type": "wait_until",
                "condition": {"event": "form_submitted"},
                "timeout": "1d",
                "on_timeout": [{"id": "late", "type": "add_tag", "tag": "late"}],
            },
            {"id": "after", "type": "add_tag", "tag": "after"},
        ]
    )
    result, events = enter(program)
    later = resume(program, result, events)
    assert outcomes(later) == [("w", "timeout"), ("late", "done"), ("after", "done")]


def test_wait_until_event_exactly_at_timeout_counts_as_met() -> None:
    program = flow(
        [
            {
                "id": "w",
                "type": "wait_until",
                "condition": {"event": "form_submitted"},
                "timeout": "1d",
            }
        ]
    )
    result, events = enter(program)
    deadline = T0 + timedelta(days=1)
    on_time = Event("form_submitted", deadline, {})
    assert outcomes(resume(program, result, [*events, on_time])) == [("w", "met")]


def test_wait_until_event_after_timeout_does_not_count_when_daemon_is_late() -> None:
    program = flow(
        [
            {
                "id": "w",
                "type": "wait_until",
                "condition": {"event": "form_submitted"},
                "timeout": "1d",
            }
        ]
    )
    result, events = enter(program)
    late = Event("form_submitted", T0 + timedelta(days=1, minutes=1), {})
    later = resume(program, result, [*events, late], now=T0 + timedelta(days=1, minutes=5))
    assert outcomes(later) == [("w", "timeout")]


def test_decision_with_empty_branch_goes_on_after_decision() -> None:
    program = flow(
        [
            {"id": "d", "type": "decision", "if": {"tag": "vip"}, "then": []},
            {"id": "after", "type": "add_tag", "tag": "x"},
        ]
    )
    result, _ = enter(program)
    assert outcomes(result) == [("d", "else"), ("after", "done")]
    vip, _ = enter(program, contact(tags=["vip"]))
    assert outcomes(vip) == [("d", "then"), ("after", "done")]


def test_goto_into_branch_continues_after_parent_decision() -> None:
    program = flow(
        [
            {"id": "jump", "type": "goto", "step": "inside"},
            {
                "id": "d",
                "type": "decision",
                "if": {"tag": "never"},
                "then": [{"id": "inside", "type": "add_tag", "tag": "in"}],
            },
            {"id": "after", "type": "add_tag", "tag": "after"},
        ]
    )
    result, _ = enter(program)
    assert outcomes(result) == [("jump", "jump"), ("inside", "done"), ("after", "done")]


def test_end_completes_participant() -> None:
    program = flow([{"id": "e", "type": "end"}, {"id": "never", "type": "add_tag", "tag": "x"}])
    result, _ = enter(program)
    assert outcomes(result) == [("e", "end")]
    assert result.state.status == "completed"
    assert result.state.ended_at == T0


def test_split_is_deterministic_and_follows_weights() -> None:
    variants = [
        {"name": "a", "weight": 30, "steps": [{"id": "in-a", "type": "add_tag", "tag": "a"}]},
        {"name": "b", "weight": 70, "steps": []},
    ]
    program = flow([{"id": "ab", "type": "split", "variants": variants}])
    picks = []
    for i in range(400):
        result, _ = enter(program, contact(id=f"c{i}"))
        picks.append(result.history[0].outcome)
        again, _ = enter(program, contact(id=f"c{i}"))
        assert again.history[0].outcome == picks[-1]
    share = picks.count("a") / len(picks)
    assert 0.22 < share < 0.38
    assert split_bucket("t", "ab", "c1") == split_bucket("t", "ab", "c1")


def test_loop_without_wait_exits_at_step_limit() -> None:
    program = flow(
        [{"id": "a", "type": "add_tag", "tag": "x"}, {"id": "b", "type": "goto", "step": "a"}]
    )
    result, _ = enter(program)
    assert result.state.status == "exited"
    assert result.state.reason == "step_limit"
    assert len([h for h in result.history if h.step]) == STEP_LIMIT
    assert result.state.due is None


def test_loop_through_delay_is_not_limited() -> None:
    program = flow(
        [{"id": "d", "type": "delay", "duration": "1h"}, {"id": "b", "type": "goto", "step": "d"}]
    )
    result, events = enter(program)
    for _ in range(5):
        result = resume(program, result, events)
    assert result.state.status == "waiting"
    assert result.state.visits["d"] == 6


def test_final_participant_is_left_alone() -> None:
    program = flow([{"id": "a", "type": "add_tag", "tag": "x"}])
    result, events = enter(program)
    again = advance(program, result.state, result.contact, events, T0 + timedelta(days=1))
    assert again.state == result.state
    assert again.effects == ()
