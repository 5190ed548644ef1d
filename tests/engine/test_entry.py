"""Entry: triggers with params and globs, activation time, filters, reentry."""

from __future__ import annotations

from datetime import timedelta

from flowctl.engine import Event, cancel, consider_entry
from tests.engine.helpers import T0, contact, enter, flow

STEPS = [{"id": "d", "type": "delay", "duration": "1d"}]


def test_trigger_params_and_url_glob_match() -> None:
    program = flow(
        STEPS,
        triggers=[
            {"type": "page_visited", "url": "https://example.com/pricing*"},
            {"type": "form_submitted", "form": "demo"},
        ],
    )
    visit = Event("page_visited", T0, {"url": "https://example.com/pricing/pro"})
    assert consider_entry(program, visit, contact(), T0).entered
    blog = Event("page_visited", T0, {"url": "https://example.com/blog"})
    assert consider_entry(program, blog, contact(), T0).reason == "no_trigger"
    other_form = Event("form_submitted", T0, {"form": "newsletter"})
    assert consider_entry(program, other_form, contact(), T0).reason == "no_trigger"
    decision = consider_entry(program, Event("form_submitted", T0, {"form": "demo"}), contact(), T0)
    assert decision.trigger == 1


def test_event_before_activation_does_not_enter() -> None:
    program = flow(STEPS, triggers=[{"type": "tag_added", "tag": "lead"}])
    event = Event("tag_added", T0 - timedelta(minutes=1), {"tag": "lead"})
    decision = consider_entry(program, event, contact(), T0, activated_at=T0)
    assert decision.reason == "before_activation"
    at_activation = Event("tag_added", T0, {"tag": "lead"})
    assert consider_entry(program, at_activation, contact(), T0, activated_at=T0).entered


def test_trigger_filter_and_flow_filter_see_trigger_data() -> None:
    program = flow(
        STEPS,
        triggers=[{"type": "sale_created", "filter": {"field": "trigger.amount", "gte": 100}}],
        filter={"field": "trigger.offer", "eq": "gold"},
    )
    small = Event("sale_created", T0, {"amount": 10, "offer": "gold"})
    assert consider_entry(program, small, contact(), T0).reason == "filter"
    silver = Event("sale_created", T0, {"amount": 500, "offer": "silver"})
    assert consider_entry(program, silver, contact(), T0).reason == "filter"
    gold = Event("sale_created", T0, {"amount": 500, "offer": "gold"})
    assert consider_entry(program, gold, contact(), T0).entered


def test_filter_reads_dates_in_the_contacts_zone_as_the_steps_do() -> None:
    signup = {"field": "contact.signup", "before": "2026-03-10"}  # midnight in which zone?
    program = flow(
        [{"id": "d", "type": "decision", "if": signup, "then": [{"id": "t", "type": "end"}]}],
        filter=signup,
        contact_timezone=True,
    )
    auckland = contact(timezone="Pacific/Auckland", signup="2026-03-09T20:00:00Z")  # 10 March
    assert consider_entry(program, Event("manual", T0, {}), auckland, T0).reason == "filter"
    oslo = contact(timezone="Europe/Oslo", signup="2026-03-09T20:00:00Z")  # 9 March there
    result, _ = enter(program, oslo)
    assert [(h.step, h.outcome) for h in result.history][:1] == [("d", "then")]


def test_active_participant_is_not_entered_again() -> None:
    program = flow(STEPS, reentry="after_exit")
    first, _ = enter(program)
    event = Event("manual", T0 + timedelta(hours=1), {})
    decision = consider_entry(program, event, contact(), event.at, prior=[first.state])
    assert decision.reason == "already_active"


def test_reentry_never_refuses_after_end() -> None:
    program = flow(STEPS)
    first, _ = enter(program)
    ended = cancel(first.state, T0)
    event = Event("manual", T0 + timedelta(days=3), {})
    assert consider_entry(program, event, contact(), event.at, prior=[ended]).reason == "reentry"


def test_reentry_after_exit_with_reentry_after() -> None:
    program = flow(STEPS, reentry="after_exit", reentry_after="7d")
    first, _ = enter(program)
    ended = cancel(first.state, T0)
    soon = T0 + timedelta(days=2)
    decision = consider_entry(program, Event("manual", soon, {}), contact(), soon, prior=[ended])
    assert decision.reason == "reentry_after"
    later = T0 + timedelta(days=8)
    assert consider_entry(
        program, Event("manual", later, {}), contact(), later, prior=[ended]
    ).entered


def test_custom_event_trigger_by_name() -> None:
    program = flow(STEPS, triggers=[{"type": "event", "name": "order_shipped"}])
    assert consider_entry(program, Event("order_shipped", T0, {}), contact(), T0).entered
    named = Event("event", T0, {"name": "order_shipped"})
    assert consider_entry(program, named, contact(), T0).entered
    assert not consider_entry(program, Event("other", T0, {}), contact(), T0).entered


def test_contact_updated_trigger_field_matches_set_fields() -> None:
    program = flow(STEPS, triggers=[{"type": "contact_updated", "field": "country"}])
    event = Event("contact_updated", T0, {"set": {"country": "NO"}})
    assert consider_entry(program, event, contact(), T0).entered
    other = Event("contact_updated", T0, {"set": {"city": "Oslo"}})
    assert not consider_entry(program, other, contact(), T0).entered
