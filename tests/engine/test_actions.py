"""Action steps: effects as data, contact changes, emitted events, suppression."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flowctl.engine import Context, Limits
from tests.engine.helpers import T0, contact, enter, flow, outcomes, resume


def test_add_tag_changes_contact_and_later_decision_sees_it() -> None:
    program = flow(
        [
            {"id": "tag", "type": "add_tag", "tag": "vip"},
            {"id": "check", "type": "decision", "if": {"tag": "vip"}},
        ]
    )
    result, _ = enter(program)
    assert result.contact["tags"] == ["vip"]
    assert outcomes(result) == [("tag", "done"), ("check", "then")]
    assert [e.type for e in result.emitted] == ["tag_added"]
    assert result.emitted[0].data["step"] == "tag"


def test_action_does_not_mutate_callers_contact() -> None:
    person = contact()
    enter(flow([{"id": "tag", "type": "add_tag", "tag": "vip"}]), person)
    assert person["tags"] == []


def test_remove_tag_of_absent_tag_is_unchanged_without_event() -> None:
    result, _ = enter(flow([{"id": "rm", "type": "remove_tag", "tag": "x"}]))
    assert [(h.outcome, h.detail) for h in result.history] == [("done", "unchanged")]
    assert result.emitted == ()
    assert [e.type for e in result.effects] == ["remove_tag"]


def test_every_action_type_produces_an_effect() -> None:
    steps: list[dict[str, Any]] = [
        {"id": "a1", "type": "subscribe_campaign", "campaign": "c"},
        {"id": "a2", "type": "unsubscribe_campaign", "campaign": "c"},
        {"id": "a3", "type": "update_contact", "set": {"country": "NO"}, "unset": ["nickname"]},
        {"id": "a4", "type": "create_activity", "title": "Call", "due": "2d"},
        {"id": "a5", "type": "notify", "to": "sales", "message": "hi"},
        {"id": "a6", "type": "create_sale", "title": "Deal", "amount": 10},
        {"id": "a7", "type": "create_appointment", "title": "Meet", "in": "1d"},
        {"id": "a8", "type": "create_ticket", "title": "Help"},
        {"id": "a9", "type": "add_to_selection", "selection": "s", "title": "Shortlist"},
        {"id": "b1", "type": "add_to_project", "project": "p"},
        {"id": "b2", "type": "enroll_course", "course": "k"},
        {"id": "b3", "type": "revoke_course", "course": "k"},
        {"id": "b4", "type": "start_flow", "flow": "other"},
        {"id": "b5", "type": "webhook", "url": "https://hooks.example/x"},
        {"id": "b6", "type": "send_sms", "sms": "hello"},
        {"id": "b7", "type": "send_email", "mailing": "welcome"},
    ]
    result, _ = enter(flow(steps), contact(phone="+4712345678"))
    assert [e.step for e in result.effects] == [s["id"] for s in steps]
    assert result.state.status == "completed"
    emitted = [e.type for e in result.emitted]
    assert emitted == [
        "campaign_subscribed",
        "campaign_unsubscribed",
        "contact_updated",
        "activity_created",
        "sale_created",
        "appointment_created",
        "ticket_created",
        "selection_added",
        "project_added",
        "course_enrolled",
        "course_revoked",
        "sms_sent",
        "email_sent",
    ]
    effects = {e.step: e for e in result.effects}
    assert effects["a4"].params["due_at"] == (T0 + timedelta(days=2)).isoformat()
    titles = [effects[s].params["title"] for s in ("a4", "a6", "a7", "a8")]
    assert titles == ["Call", "Deal", "Meet", "Help"]  # what they create is called so
    assert "title" not in effects["a9"].params  # a step's own title is no parameter
    assert effects["b5"].params["method"] == "POST"
    assert result.contact["country"] == "NO"
    assert result.contact["selections"] == ["s"]


def test_effect_keys_carry_participant_version_step_and_visit() -> None:
    result, _ = enter(flow([{"id": "mail", "type": "send_email", "mailing": "m"}]))
    (effect,) = result.effects
    assert effect.key.endswith(":1:mail:1")
    assert effect.key.startswith("t/c1/")


def test_send_email_to_unsubscribed_contact_is_suppressed() -> None:
    program = flow([{"id": "mail", "type": "send_email", "mailing": "m"}])
    result, _ = enter(program, contact(unsubscribed=True))
    assert [(h.outcome, h.detail) for h in result.history] == [("suppressed", "unsubscribed")]
    assert result.effects == ()
    assert result.state.status == "completed"


def test_send_sms_without_phone_is_suppressed() -> None:
    result, _ = enter(flow([{"id": "sms", "type": "send_sms", "sms": "s"}]))
    assert [(h.outcome, h.detail) for h in result.history] == [("suppressed", "no_phone")]


def test_once_per_contact_mailing_already_sent_is_suppressed() -> None:
    program = flow([{"id": "mail", "type": "send_email", "mailing": "m"}])
    ctx = Context(once_per_contact=frozenset({"m"}), sent_mailings=frozenset({"m"}))
    result, _ = enter(program, context=ctx)
    assert [(h.outcome, h.detail) for h in result.history] == [("suppressed", "once_per_contact")]


def test_once_per_contact_second_send_in_same_advance_is_suppressed() -> None:
    program = flow(
        [
            {"id": "m1", "type": "send_email", "mailing": "m"},
            {"id": "m2", "type": "send_email", "mailing": "m"},
        ]
    )
    result, _ = enter(program, context=Context(once_per_contact=frozenset({"m"})))
    assert [h.outcome for h in result.history] == ["sent", "suppressed"]


def test_frequency_cap_holds_participant_waiting_until_under_cap() -> None:
    program = flow([{"id": "mail", "type": "send_email", "mailing": "m"}])
    earlier = (T0 - timedelta(hours=20), T0 - timedelta(hours=2))
    ctx = Context(limits=Limits(2, timedelta(days=1)), sent_at=earlier)
    result, events = enter(program, context=ctx)
    assert result.state.status == "waiting"
    assert result.state.hold == "frequency_cap"
    assert result.state.due == T0 + timedelta(hours=4)
    later = resume(program, result, events, context=ctx)
    assert outcomes(later) == [("mail", "sent")]
    assert later.effects[0].key == result.state.id + ":1:mail:1"
    assert later.state.status == "completed"


def test_update_contact_renders_templates_with_injected_renderer() -> None:
    program = flow(
        [{"id": "u", "type": "update_contact", "set": {"greeting": "Hi {{ contact.email }}"}}]
    )
    ctx = Context(render=lambda text, data: text.replace("{{ contact.email }}", "ann"))
    result, _ = enter(program, context=ctx)
    assert result.contact["greeting"] == "Hi ann"
