"""The data behind get flows, describe, users and audit (flowctl.operate.views)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flowctl.engine import STATUSES
from flowctl.errors import NotFound, Refused, UsageError
from flowctl.operate import views
from flowctl.store import AuditEntry, Store, StoredDocument, open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)

STEPS: list[dict[str, Any]] = [
    {"id": "welcome", "type": "send_email", "mailing": "welcome"},
    {
        "id": "opened",
        "type": "wait_until",
        "condition": {"event": "email_opened"},
        "timeout": "3d",
        "on_timeout": [{"id": "nudge", "type": "send_sms", "sms": "nudge"}],
    },
    {
        "id": "customer",
        "type": "decision",
        "if": {"tag": "customer"},
        "then": [{"id": "thanks", "type": "send_email", "mailing": "thanks"}],
        "else": [{"id": "welcome-again", "type": "send_email", "mailing": "welcome"}],
    },
    {
        "id": "ab",
        "type": "split",
        "variants": [
            {
                "name": "a",
                "weight": 50,
                "steps": [{"id": "a1", "type": "send_email", "mailing": "offer-a"}],
            },
            {
                "name": "b",
                "weight": 50,
                "steps": [{"id": "b1", "type": "send_sms", "sms": "offer-b"}],
            },
        ],
    },
]
TRIGGERS = [{"type": "form_submitted", "form": "signup"}, {"type": "manual"}]


def flow_doc(
    name: str,
    version: int = 1,
    *,
    at: datetime = T0,
    steps: list[dict[str, Any]] | None = None,
    **meta: Any,
) -> StoredDocument:
    document = {
        "apiVersion": "flowctl/v1",
        "kind": "Flow",
        "metadata": {"name": name, **meta},
        "spec": {"triggers": TRIGGERS, "steps": steps or [{"id": "done", "type": "end"}]},
    }
    return StoredDocument(
        "Flow", name, version, f"hash-{name}-{version}", "src", document, at, "ann"
    )


def content_doc(kind: str, name: str) -> StoredDocument:
    document = {"apiVersion": "flowctl/v1", "kind": kind, "metadata": {"name": name}, "spec": {}}
    return StoredDocument(kind, name, 1, f"hash-{name}", "src", document, T0, "ann")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(str(tmp_path / "flowctl.db")) as opened:
        yield opened


@pytest.fixture
def flows(store: Store) -> Store:
    """Four flows in folders, in different states, changed at different times."""
    store.add_version(
        flow_doc("onboarding", title="Welcome new customers", folder="onboarding/emea")
    )
    store.add_version(flow_doc("upsell", title="Upsell", folder="sales", description="Offer TWO"))
    store.add_version(flow_doc("salesforce-sync", folder="salesforce/"))
    store.add_version(flow_doc("lead-nurture", at=NOW - timedelta(days=2)))
    store.set_flow_state("upsell", "active", T0)
    store.set_flow_state("onboarding", "active", T0)
    store.set_flow_state("onboarding", "paused", T0 + timedelta(days=1))
    return store


def names(rows: list[Any]) -> list[str]:
    return [r.name for r in rows]


def test_list_flows_default_by_name(flows: Store) -> None:
    assert names(views.list_flows(flows, now=NOW)) == [
        "lead-nurture",
        "onboarding",
        "salesforce-sync",
        "upsell",
    ]


def test_list_flows_state_and_running(flows: Store) -> None:
    assert names(views.list_flows(flows, state="paused", now=NOW)) == ["onboarding"]
    assert names(views.list_flows(flows, running=True, now=NOW)) == ["upsell"]
    assert views.list_flows(flows, running=True, state="draft", now=NOW) == []


def test_list_flows_unknown_state_usage_error(flows: Store) -> None:
    with pytest.raises(UsageError) as caught:
        views.list_flows(flows, state="running", now=NOW)
    assert "draft, active, paused, deactivated" in str(caught.value)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("onboarding", ["onboarding"]),
        ("onboarding/", ["onboarding"]),
        ("onboarding/emea", ["onboarding"]),
        ("onboard", []),
        ("sales", ["upsell"]),
        ("salesforce", ["salesforce-sync"]),
        ("/", ["lead-nurture", "onboarding", "salesforce-sync", "upsell"]),
    ],
)
def test_list_flows_folder_and_below(flows: Store, folder: str, expected: list[str]) -> None:
    assert names(views.list_flows(flows, folder=folder, now=NOW)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SALES", ["salesforce-sync"]),  # name
        ("welcome", ["onboarding"]),  # title
        ("offer two", ["upsell"]),  # description
        ("nothing like it", []),
    ],
)
def test_list_flows_search_ignores_case(flows: Store, text: str, expected: list[str]) -> None:
    assert names(views.list_flows(flows, search=text, now=NOW)) == expected


def test_list_flows_recent_changed_or_shown_newest_first(flows: Store) -> None:
    flows.mark_shown("upsell", NOW - timedelta(days=1))
    flows.mark_shown("salesforce-sync", NOW - timedelta(days=8))
    assert names(views.list_flows(flows, recent=True, now=NOW)) == ["upsell", "lead-nurture"]
    flows.set_flow_state("onboarding", "active", NOW - timedelta(hours=1))  # a change
    assert names(views.list_flows(flows, recent=True, now=NOW)) == [
        "onboarding",
        "upsell",
        "lead-nurture",
    ]
    assert names(views.list_flows(flows, recent=True, running=True, now=NOW)) == [
        "onboarding",
        "upsell",
    ]


def test_flow_json_has_spec_keys(flows: Store) -> None:
    row = flows.flow("upsell")
    assert row is not None
    assert views.flow_json(row) == {
        "name": "upsell",
        "title": "Upsell",
        "folder": "sales",
        "state": "active",
        "version": 1,
        "participants": 0,
        "success_rate": 0.0,
        "updated": "2026-03-02T09:00:00+00:00",
    }


def test_describe_flow_overview(store: Store) -> None:
    store.add_version(flow_doc("nurture", title="Nurture", labels={"team": "emea"}, owner="lena"))
    store.add_version(flow_doc("nurture", 2, at=T0 + timedelta(days=1), steps=STEPS))
    store.add_version(content_doc("Mailing", "welcome"))
    store.add_version(content_doc("Sms", "offer-b"))
    store.set_flow_state("nurture", "active", T0 + timedelta(days=2))
    data = views.describe_flow(store, "nurture", NOW)
    assert data["name"] == "nurture"
    assert (data["state"], data["version"], data["versions"]) == ("active", 2, 2)
    assert [(h["version"], h["created_by"], h["hash"]) for h in data["history"]] == [
        (1, "ann", "hash-nurture-1"),
        (2, "ann", "hash-nurture-2"),
    ]
    assert data["activated_at"] == "2026-03-04T09:00:00+00:00"
    assert data["activations"] == [{"started_at": "2026-03-04T09:00:00+00:00", "ended_at": None}]
    assert data["triggers"] == TRIGGERS
    assert data["statuses"] == dict.fromkeys(STATUSES, 0)
    assert (data["participants"], data["success_rate"]) == (0, 0.0)
    assert data["title"] is None  # the current version has none
    assert data["content"] == [
        {"name": "welcome", "kind": "Mailing", "applied": True},
        {"name": "nudge", "kind": "Sms", "applied": False},
        {"name": "thanks", "kind": "Mailing", "applied": False},
        {"name": "offer-a", "kind": "Mailing", "applied": False},
        {"name": "offer-b", "kind": "Sms", "applied": True},
    ]


def test_describe_flow_metadata(store: Store) -> None:
    store.add_version(
        flow_doc("n", title="T", description="D", folder="f/g", labels={"a": "b"}, owner="lena")
    )
    data = views.describe_flow(store, "n", NOW)
    assert {k: data[k] for k in ("title", "description", "folder", "labels", "owner")} == {
        "title": "T",
        "description": "D",
        "folder": "f/g",
        "labels": {"a": "b"},
        "owner": "lena",
    }
    assert data["activated_at"] is None
    assert data["activations"] == []


def test_describe_flow_marks_shown_without_audit(flows: Store) -> None:
    views.describe_flow(flows, "upsell", NOW)
    row = flows.flow("upsell")
    assert row is not None and row.shown_at == NOW
    assert flows.audit_log() == []


def test_describe_flow_unknown_hints_close_names(flows: Store) -> None:
    with pytest.raises(NotFound) as caught:
        views.describe_flow(flows, "upsel", NOW)
    assert "upsell" in str(caught.value.hint)
    with pytest.raises(NotFound) as caught:
        views.describe_flow(flows, "onboard", NOW)
    assert "onboarding" in str(caught.value.hint)


def test_describe_flow_unknown_without_close_names(store: Store) -> None:
    with pytest.raises(NotFound) as caught:
        views.describe_flow(store, "anything", NOW)
    assert "flowctl get flows" in str(caught.value.hint)


def test_content_refs_once_each_in_order() -> None:
    assert views.content_refs(STEPS) == [
        ("Mailing", "welcome"),
        ("Sms", "nudge"),
        ("Mailing", "thanks"),
        ("Mailing", "offer-a"),
        ("Sms", "offer-b"),
    ]
    assert views.content_refs(None) == []


def test_add_user_first_by_anyone_then_admins_only(store: Store) -> None:
    assert views.add_user(store, "ann", "flow-admin", now=T0, user="root") is True
    assert views.add_user(store, "bob", "content-editor", now=T0, user="ann") is True
    with pytest.raises(Refused, match="manage users"):
        views.add_user(store, "eve", "flow-admin", now=T0, user="bob")
    assert views.add_user(store, "bob", "flow-admin", now=T0, user="ann") is False
    assert views.users_json(store) == [
        {"name": "ann", "role": "flow-admin"},
        {"name": "bob", "role": "flow-admin"},
    ]
    assert [(e.user, e.command, e.object, e.detail) for e in store.audit_log()] == [
        ("ann", "users add", "user/bob", "flow-admin"),
        ("ann", "users add", "user/bob", "content-editor"),
        ("root", "users add", "user/ann", "flow-admin"),
    ]


@pytest.mark.parametrize(("name", "role"), [("ann", "admin"), ("  ", "flow-admin")])
def test_add_user_bad_input_usage_error(store: Store, name: str, role: str) -> None:
    with pytest.raises(UsageError):
        views.add_user(store, name, role, now=T0, user="root")
    assert store.users() == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("-12h", NOW - timedelta(hours=12)),
        ("2026-03-01T10:00:00+01:00", datetime(2026, 3, 1, 9, 0, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_parse_since_duration_or_instant(text: str, expected: datetime) -> None:
    assert views.parse_since(text, NOW) == expected


def test_parse_since_bad_usage_error() -> None:
    with pytest.raises(UsageError, match="neither a duration nor an instant"):
        views.parse_since("last week", NOW)


def test_audit_json_keys() -> None:
    entry = AuditEntry(T0, "ann", "users add", "user/bob", "content-editor")
    assert views.audit_json(entry) == {
        "at": "2026-03-02T09:00:00+00:00",
        "user": "ann",
        "command": "users add",
        "object": "user/bob",
        "detail": "content-editor",
    }
