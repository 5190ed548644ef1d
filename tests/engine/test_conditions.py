"""The condition language of spec §6, operator by operator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowctl.engine import Event, Facts, compile_condition
from flowctl.errors import InvalidValue

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def holds(cond: dict[str, Any], contact: dict[str, Any] | None = None, **kw: Any) -> bool:
    facts = Facts(
        contact=contact if contact is not None else {},
        now=kw.pop("now", NOW),
        zone=kw.pop("zone", UTC),
        **kw,
    )
    return compile_condition(cond).holds(facts)


@pytest.mark.parametrize(
    ("op", "arg", "value", "expected"),
    [
        ("eq", "NO", "NO", True),
        ("eq", "NO", "SE", False),
        ("eq", 42, "42", True),
        ("eq", True, "true", True),
        ("ne", "NO", "SE", True),
        ("ne", "NO", "NO", False),
        ("in", ["NO", "SE"], "SE", True),
        ("in", ["NO", "SE"], "DK", False),
        ("not_in", ["NO", "SE"], "DK", True),
        ("not_in", ["NO", "SE"], "NO", False),
        ("gt", 10, 11, True),
        ("gt", 10, 10, False),
        ("gte", 10, 10, True),
        ("lt", 10, "9", True),
        ("lte", 10, 11, False),
        ("gt", "b", "c", True),
        ("contains", "vip", ["vip", "x"], True),
        ("contains", "ample", "example", True),
        ("contains", "zzz", "example", False),
        ("not_contains", "vip", ["x"], True),
        ("not_contains", "ex", "example", False),
        ("starts_with", "ex", "example", True),
        ("starts_with", "am", "example", False),
        ("ends_with", "ple", "example", True),
        ("matches", r"^\+47\d{8}$", "+4712345678", True),
        ("matches", r"^\+47", "+46123", False),
        ("exists", True, "x", True),
        ("exists", False, "x", False),
        ("is_empty", True, "", True),
        ("is_empty", True, [], True),
        ("is_empty", False, "x", True),
    ],
)
def test_field_operator_compares_value(op: str, arg: Any, value: Any, expected: bool) -> None:
    assert holds({"field": "contact.x", op: arg}, {"x": value}) is expected


@pytest.mark.parametrize(
    ("op", "arg"),
    [
        ("eq", "NO"),
        ("in", ["NO"]),
        ("not_in", ["NO"]),
        ("gt", 1),
        ("lt", 1),
        ("contains", "a"),
        ("not_contains", "a"),
        ("starts_with", "a"),
        ("ends_with", "a"),
        ("matches", "a"),
        ("before", "2030-01-01"),
        ("after", "2000-01-01"),
        ("within_last", "30d"),
    ],
)
def test_field_operator_is_false_on_null(op: str, arg: Any) -> None:
    assert holds({"field": "contact.missing", op: arg}, {}) is False


def test_field_null_semantics_exists_is_empty_ne() -> None:
    assert holds({"field": "contact.missing", "exists": False}, {})
    assert holds({"field": "contact.missing", "is_empty": True}, {})
    assert holds({"field": "contact.missing", "ne": "NO"}, {})
    assert not holds({"field": "contact.missing", "ne": None}, {})


def test_field_before_after_with_instant_and_relative_duration() -> None:
    person = {"signed_up": "2026-01-10T00:00:00Z"}
    assert holds({"field": "contact.signed_up", "before": "-30d"}, person)
    assert not holds({"field": "contact.signed_up", "after": "-30d"}, person)
    assert holds({"field": "contact.signed_up", "after": "2026-01-01T00:00:00Z"}, person)
    assert holds({"field": "contact.signed_up", "before": "2026-02-01"}, person)


def test_field_date_means_midnight_in_flow_zone() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    # 2026-03-02 00:00 in Oslo is 2026-03-01T23:00Z
    person = {"birthday": "2026-03-02"}
    assert holds({"field": "contact.birthday", "before": "2026-03-01T23:30:00Z"}, person, zone=oslo)
    assert not holds({"field": "contact.birthday", "before": "2026-03-01T23:30:00Z"}, person)


def test_field_within_last_counts_recent_instants_only() -> None:
    recent = {"seen": (NOW - timedelta(days=2)).isoformat()}
    old = {"seen": (NOW - timedelta(days=40)).isoformat()}
    assert holds({"field": "contact.seen", "within_last": "7d"}, recent)
    assert not holds({"field": "contact.seen", "within_last": "7d"}, old)


def test_membership_tests_read_contact_lists() -> None:
    person = {"tags": ["vip"], "campaigns": ["c1"], "selections": ["s"], "projects": ["p"]}
    assert holds({"tag": "vip"}, person)
    assert not holds({"tag": "other"}, person)
    assert holds({"campaign": "c1"}, person)
    assert holds({"selection": "s"}, person)
    assert holds({"project": "p"}, person)


def test_combinators_all_any_not() -> None:
    person = {"tags": ["a"], "country": "NO"}
    assert holds({"all": [{"tag": "a"}, {"field": "contact.country", "eq": "NO"}]}, person)
    assert not holds({"all": [{"tag": "a"}, {"tag": "b"}]}, person)
    assert holds({"any": [{"tag": "b"}, {"tag": "a"}]}, person)
    assert holds({"not": {"tag": "b"}}, person)


def test_event_test_matches_params_step_and_within() -> None:
    events = [
        Event("email_link_clicked", NOW - timedelta(days=3), {"mailing": "welcome", "step": "s1"}),
        Event("page_visited", NOW - timedelta(hours=1), {"url": "https://example.com/pricing/pro"}),
    ]
    assert holds({"event": "email_link_clicked", "mailing": "welcome"}, events=events)
    assert holds({"event": "email_link_clicked", "step": "s1"}, events=events)
    assert not holds({"event": "email_link_clicked", "mailing": "other"}, events=events)
    assert not holds({"event": "email_link_clicked", "within": "2d"}, events=events)
    assert holds({"event": "email_link_clicked", "within": "4d"}, events=events)
    assert holds({"event": "page_visited", "url": "https://example.com/pricing*"}, events=events)
    assert not holds({"event": "page_visited", "url": "https://example.com/blog*"}, events=events)


def test_event_test_params_named_like_memberships_and_fields_are_params() -> None:
    events = [
        Event("tag_added", NOW, {"tag": "customer"}),
        Event("selection_added", NOW, {"selection": "hot-leads"}),
        Event("contact_updated", NOW, {"set": {"phone": "+4712345678"}}),
    ]
    member: dict[str, Any] = {"tags": ["customer"]}  # the membership alone would hold
    assert holds({"event": "tag_added", "tag": "customer"}, member, events=events)
    assert not holds({"event": "tag_added", "tag": "vip"}, {"tags": ["vip"]}, events=events)
    assert holds({"event": "selection_added", "selection": "hot-leads"}, events=events)
    assert not holds({"event": "selection_added", "selection": "cold"}, events=events)
    assert holds({"event": "contact_updated", "field": "phone"}, events=events)
    assert not holds({"event": "contact_updated", "field": "email"}, events=events)


def test_custom_event_test_matches_as_the_custom_trigger_does() -> None:
    named = [Event("payment_method_updated", NOW, {"card": "visa"})]
    wrapped = [Event("event", NOW, {"name": "payment_method_updated"})]
    cond = {"event": "event", "name": "payment_method_updated", "within": "1d"}
    assert holds(cond, events=named)
    assert holds(cond, events=wrapped)
    assert holds({**cond, "card": "visa"}, events=named)
    assert not holds({**cond, "card": "amex"}, events=named)
    assert not holds({"event": "event", "name": "other"}, events=named + wrapped)


def test_field_roots_company_trigger_participant() -> None:
    trigger = Event("form_submitted", NOW, {"form": "demo"})
    person = {"company": {"name": "Acme", "size": 50}}
    kw: dict[str, Any] = {"trigger": trigger, "entered_at": NOW, "step_count": 3}
    assert holds({"field": "company.size", "gte": 10}, person, **kw)
    assert holds({"field": "company.name", "eq": "Acme"}, person, **kw)
    assert holds({"field": "trigger.form", "eq": "demo"}, person, **kw)
    assert holds({"field": "participant.step_count", "eq": 3}, person, **kw)
    assert holds({"field": "participant.entered_at", "within_last": "1h"}, person, **kw)
    assert holds({"field": "company.name", "eq": "Beta"}, {"company": "Beta"})


@pytest.mark.parametrize(
    "bad",
    [
        {"field": "contact.x"},
        {"field": "contact.x", "eq": 1, "ne": 2},
        {"field": "nowhere.x", "eq": 1},
        {"field": "contact.x", "matches": "("},
        {"field": "contact.x", "before": "soon"},
        {"nonsense": 1},
        "tag",
    ],
)
def test_compile_condition_rejects_bad_condition(bad: Any) -> None:
    with pytest.raises(InvalidValue):
        compile_condition(bad)
