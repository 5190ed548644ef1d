"""simulate(): one contact on a virtual clock, with the CLI's JSON keys."""

from __future__ import annotations

from typing import Any

import pytest

from flowctl.engine import compile_flow
from flowctl.errors import InputError
from flowctl.simulate import simulate

UPSELL: dict[str, Any] = {
    "apiVersion": "flowctl/v1",
    "kind": "Flow",
    "metadata": {"name": "offer-upsell"},
    "spec": {
        "timezone": "Europe/Stockholm",
        "triggers": [{"type": "funnel_form_subscribed", "form": "optin-page"}],
        "filter": {"not": {"tag": "customer-2"}},
        "steps": [
            {"id": "sub-c1", "type": "subscribe_campaign", "campaign": "campaign-1"},
            {"id": "give-them-time", "type": "delay", "duration": "5d"},
            {
                "id": "bought-offer-1",
                "type": "decision",
                "if": {"tag": "customer-1"},
                "then": [
                    {"id": "unsub-c1", "type": "unsubscribe_campaign", "campaign": "campaign-1"},
                    {"id": "sub-c2", "type": "subscribe_campaign", "campaign": "campaign-2"},
                ],
            },
        ],
        "success": {"when": {"event": "sale_created", "offer": "offer-2"}},
    },
}
START = "2026-03-02T08:00:00+01:00"
PROGRAM = compile_flow(UPSELL)


def test_simulate_enters_on_trigger_event_and_follows_contact_changes() -> None:
    events = [
        {"type": "funnel_form_subscribed", "at": "+0m", "data": {"form": "optin-page"}},
        {"type": "tag_added", "at": "+2d", "data": {"tag": "customer-1"}},
    ]
    result = simulate(PROGRAM, {"email": "ann@example.com", "tags": []}, events, START, "30d")
    out = result.to_dict()
    assert {
        "flow",
        "enrolled",
        "reason",
        "status",
        "succeeded",
        "path",
        "timeline",
        "effects",
    } <= set(out)
    assert out["enrolled"] is True
    assert out["status"] == "completed"
    assert out["path"] == ["sub-c1", "give-them-time", "bought-offer-1", "unsub-c1", "sub-c2"]
    assert out["effects"][-1]["step"] == "sub-c2"
    # instants are shown in the flow's zone (Europe/Stockholm, +01:00 in March)
    assert out["effects"][-1]["at"] == "2026-03-07T08:00:00+01:00"


def test_simulate_without_matching_event_enters_at_start() -> None:
    result = simulate(PROGRAM, {"email": "ann@example.com"}, [], START, "1d")
    assert result.enrolled
    assert result.status == "waiting"
    assert result.path == ("sub-c1", "give-them-time")


def test_simulate_filter_refuses_entry_with_reason() -> None:
    result = simulate(PROGRAM, {"email": "a@example.com", "tags": ["customer-2"]}, [], START)
    assert (result.enrolled, result.reason, result.status) == (False, "filter", None)


def test_simulate_success_event_before_entry_does_not_count() -> None:
    events = [
        {"type": "sale_created", "at": "+0m", "data": {"offer": "offer-2"}},
        {"type": "funnel_form_subscribed", "at": "+1h", "data": {"form": "optin-page"}},
    ]
    result = simulate(PROGRAM, {"email": "a@example.com"}, events, START, "30d")
    assert result.enrolled
    assert not result.succeeded
    assert result.status == "completed"


def test_simulate_success_event_after_entry_succeeds() -> None:
    events = [{"type": "sale_created", "at": "+1d", "data": {"offer": "offer-2"}}]
    result = simulate(PROGRAM, {"email": "a@example.com"}, events, START, "30d")
    assert (result.status, result.succeeded) == ("succeeded", True)


def test_simulate_event_exactly_at_timeout_is_met() -> None:
    doc = {
        **UPSELL,
        "spec": {
            **UPSELL["spec"],
            "steps": [
                {
                    "id": "w",
                    "type": "wait_until",
                    "condition": {"event": "form_submitted"},
                    "timeout": "2d",
                }
            ],
        },
    }
    events = [{"type": "form_submitted", "at": "+2d"}]
    result = simulate(compile_flow(doc), {"email": "a@example.com"}, events, START)
    assert [(t.step, t.outcome) for t in result.timeline if t.step] == [("w", "met")]


def test_simulate_previews_content_when_given() -> None:
    doc = {
        **UPSELL,
        "spec": {**UPSELL["spec"], "steps": [{"id": "m", "type": "send_email", "mailing": "hi"}]},
    }
    content = [
        {
            "apiVersion": "flowctl/v1",
            "kind": "Mailing",
            "metadata": {"name": "hi"},
            "spec": {"subject": "Hi {{ contact.first_name }}", "text": "x"},
        }
    ]
    result = simulate(
        compile_flow(doc), {"email": "a@x.io", "first_name": "Ann"}, [], START, content=content
    )
    assert result.to_dict()["effects"][0]["content"]["subject"] == "Hi Ann"


def test_simulate_fails_a_message_that_cannot_render_for_the_contact_as_the_daemon_does() -> None:
    steps = [
        {"id": "m", "type": "send_email", "mailing": "hi"},
        {"id": "s", "type": "send_sms", "sms": "ok"},
        {"id": "w", "type": "webhook", "url": "https://x.io/h", "body": {"n": "{{ 1/0 }}"}},
        {"id": "later", "type": "delay", "duration": "1d"},
        {
            "id": "d",
            "type": "decision",
            "if": {"event": "email_sent"},
            "then": [{"id": "yes", "type": "add_tag", "tag": "mailed"}],
        },
    ]
    doc = {**UPSELL, "spec": {**UPSELL["spec"], "steps": steps}}
    mailing = {"subject": "Hi {{ contact.first_name.upper() }}", "text": "x"}
    content = [
        {
            "apiVersion": "flowctl/v1",
            "kind": "Mailing",
            "metadata": {"name": "hi"},
            "spec": mailing,
        },
        {
            "apiVersion": "flowctl/v1",
            "kind": "Sms",
            "metadata": {"name": "ok"},
            "spec": {"text": "Hi"},
        },
    ]
    person = {"email": "a@x.io", "phone": "+4712345678"}
    result = simulate(compile_flow(doc), person, [], START, content=content).to_dict()
    outcomes = {t["step"]: (t["outcome"], t.get("detail")) for t in result["timeline"] if t["step"]}
    assert outcomes["m"][0] == "failed"
    assert outcomes["m"][1].startswith("mailing hi cannot be rendered for this contact:")
    assert outcomes["s"] == ("sent", None)
    assert outcomes["w"] == ("failed", "the body cannot be rendered: division by zero")
    assert outcomes["d"][0] == "else"  # no email_sent: the e-mail was never sent
    assert "yes" not in result["path"]


@pytest.mark.parametrize(
    ("contact", "events"),
    [
        (["not", "a", "contact"], []),
        ({"tags": []}, []),
        ({"email": "a@x.io"}, [{"at": "+1d"}]),
        ({"email": "a@x.io"}, [{"type": "tag_added", "at": "tomorrow"}]),
        ({"email": "a@x.io"}, ["tag_added"]),
        ({"email": "a@x.io", "tags": "customer-1"}, []),  # checked as an import checks it
        ({"email": "a@x.io", "unsubscribed": "no"}, []),
        ({"email": ["a@x.io"]}, []),
        ({"id": [1]}, []),
    ],
)
def test_simulate_bad_input_raises_input_error(contact: Any, events: Any) -> None:
    with pytest.raises(InputError):
        simulate(PROGRAM, contact, events, START)


def test_offsets_count_whole_days_as_delays_do_and_hours_as_elapsed() -> None:
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from flowctl.simulate.inputs import parse_when

    oslo = ZoneInfo("Europe/Oslo")
    start = datetime(2026, 3, 28, 10, 0, tzinfo=timezone(timedelta(hours=1)))  # DST next night
    assert parse_when("+2d", start, oslo, "at").astimezone(oslo).hour == 10  # as a 2d delay
    assert parse_when("+20h", start, oslo, "at") - start == timedelta(hours=20)
    naive_start = datetime(2026, 3, 29, 0, 0, tzinfo=oslo)  # a start written without offset
    later = parse_when("+3h", naive_start, oslo, "at")
    assert later.astimezone(oslo).hour == 4  # 3 hours: clocks go forward at 02:00
