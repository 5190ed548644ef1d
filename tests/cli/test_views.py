"""get flows, describe, users and audit, run as commands against a store file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flowctl.store import StoredDocument, open_store
from tests.conftest import Run

Cli = Callable[..., Run]

NOW = "2026-03-10T12:00:00+01:00"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FLOW_KEYS = {
    "name",
    "title",
    "folder",
    "state",
    "version",
    "participants",
    "success_rate",
    "updated",
}
DESCRIBE_KEYS = {
    "name",
    "state",
    "version",
    "versions",
    "activated_at",
    "triggers",
    "statuses",
    "participants",
    "success_rate",
}


def flow_doc(name: str, version: int = 1, at: datetime = T0, **meta: Any) -> StoredDocument:
    document = {
        "apiVersion": "flowctl/v1",
        "kind": "Flow",
        "metadata": {"name": name, **meta},
        "spec": {
            "triggers": [{"type": "tag_added", "tag": "lead"}],
            "steps": [{"id": "hello", "type": "send_email", "mailing": "hello"}],
        },
    }
    return StoredDocument("Flow", name, version, f"h{name}{version}", "src", document, at, "ann")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store holding three flows; FLOWCTL_NOW set, no FLOWCTL_USER or FLOWCTL_STORE."""
    monkeypatch.setenv("FLOWCTL_NOW", NOW)
    monkeypatch.delenv("FLOWCTL_USER", raising=False)
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)
    path = tmp_path / "flowctl.db"
    with open_store(str(path)) as store:
        store.add_version(flow_doc("welcome", title="Welcome series", folder="onboarding/emea"))
        store.add_version(flow_doc("welcome", 2, at=T0 + timedelta(days=1), title="Welcome"))
        store.add_version(flow_doc("upsell", title="Upsell offer", folder="sales"))
        store.add_version(flow_doc("winback", at=T0 + timedelta(days=8), description="Lost ones"))
        store.set_flow_state("upsell", "active", T0)
    return path


def get_flows(cli: Cli, db: Path, *args: str) -> list[str]:
    run = cli("get", "flows", "--store", db, "-o", "json", *args)
    assert run.code == 0, run.err
    return [row["name"] for row in run.json()]


def test_get_flows_json_keys(cli: Cli, db: Path) -> None:
    run = cli("get", "flows", "--store", db, "-o", "json")
    assert run.code == 0
    rows = run.json()
    assert [r["name"] for r in rows] == ["upsell", "welcome", "winback"]
    assert all(set(r) == FLOW_KEYS for r in rows)
    assert rows[1] == {
        "name": "welcome",
        "title": "Welcome",
        "folder": None,
        "state": "draft",
        "version": 2,
        "participants": 0,
        "success_rate": 0.0,
        "updated": "2026-03-02T09:00:00+00:00",
    }


def test_get_flows_table(cli: Cli, db: Path) -> None:
    run = cli("--store", db, "get", "flows")
    assert run.code == 0
    assert "SUCCESS RATE" in run.out
    assert "Upsell offer" in run.out and "0.0%" in run.out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--running"], ["upsell"]),
        (["--state", "draft"], ["welcome", "winback"]),
        (["--folder", "sales/"], ["upsell"]),
        (["--search", "LOST"], ["winback"]),
        (["--recent"], ["winback"]),  # changed 1 day ago; welcome 8 days ago
    ],
)
def test_get_flows_filters(cli: Cli, db: Path, args: list[str], expected: list[str]) -> None:
    assert get_flows(cli, db, *args) == expected


def test_get_flows_bad_state_exit_two(cli: Cli, db: Path) -> None:
    run = cli("get", "flows", "--store", db, "--state", "running")
    assert run.code == 2
    assert "deactivated" in run.err and "Traceback" not in run.err


def test_get_flows_missing_store_empty_without_file(cli: Cli, db: Path, tmp_path: Path) -> None:
    run = cli("get", "flows", "--store", tmp_path / "none.db")
    assert (run.code, run.out.strip()) == (0, "No flows in the store.")
    assert not (tmp_path / "none.db").exists()


def test_describe_json(cli: Cli, db: Path) -> None:
    run = cli("describe", "upsell", "--store", db, "-o", "json")
    assert run.code == 0, run.err
    data = run.json()
    assert set(data) >= DESCRIBE_KEYS
    assert (data["state"], data["version"], data["versions"]) == ("active", 1, 1)
    assert data["activated_at"] == "2026-03-01T09:00:00+00:00"
    assert data["triggers"] == [{"type": "tag_added", "tag": "lead"}]
    assert set(data["statuses"].values()) == {0}
    assert "succeeded" in data["statuses"]
    assert (data["participants"], data["success_rate"]) == (0, 0.0)
    assert data["content"] == [{"name": "hello", "kind": "Mailing", "applied": False}]


def test_describe_text(cli: Cli, db: Path) -> None:
    run = cli("describe", "welcome", "--store", db)
    assert run.code == 0, run.err
    for text in ("flow/welcome", "Versions", "Triggers", "tag_added tag=lead", "0.0%", "draft"):
        assert text in run.out


def test_describe_marks_recent(cli: Cli, db: Path) -> None:
    assert cli("describe", "upsell", "--store", db, "-o", "json").code == 0
    assert get_flows(cli, db, "--recent") == ["upsell", "winback"]


def test_describe_unknown_exit_one_with_hint(cli: Cli, db: Path) -> None:
    run = cli("describe", "upsel", "--store", db)
    assert run.code == 1
    assert "flow/upsel does not exist" in run.err and "upsell" in run.err


def test_users_add_first_then_rights(cli: Cli, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = cli("users", "add", "ann", "--role", "flow-admin", "--store", db)
    assert (run.code, run.out.strip()) == (0, "user/ann created (flow-admin)")

    run = cli("get", "flows", "--store", db)  # FLOWCTL_USER unset: the OS user is no user
    assert run.code == 1 and "FLOWCTL_USER" in run.err and "ann" in run.err

    monkeypatch.setenv("FLOWCTL_USER", "mallory")
    run = cli("describe", "upsell", "--store", db)
    assert run.code == 1 and "'mallory' is not a user" in run.err and "ann" in run.err

    monkeypatch.setenv("FLOWCTL_USER", "ann")
    run = cli("users", "add", "bob", "--role", "content-editor", "--store", db)
    assert (run.code, run.out.strip()) == (0, "user/bob created (content-editor)")
    run = cli("users", "add", "bob", "--role", "content-editor", "--store", db)
    assert (run.code, run.out.strip()) == (0, "user/bob updated (content-editor)")

    monkeypatch.setenv("FLOWCTL_USER", "bob")
    assert get_flows(cli, db) == ["upsell", "welcome", "winback"]
    assert cli("describe", "upsell", "--store", db).code == 0
    run = cli("users", "add", "eve", "--role", "flow-admin", "--store", db)
    assert run.code == 1 and "manage users" in run.err

    run = cli("users", "list", "--store", db, "-o", "json")
    assert run.json() == [
        {"name": "ann", "role": "flow-admin"},
        {"name": "bob", "role": "content-editor"},
    ]


def test_users_add_unknown_role_exit_two(cli: Cli, db: Path) -> None:
    run = cli("users", "add", "ann", "--role", "admin", "--store", db)
    assert run.code == 2
    assert "flow-admin" in run.err and "content-editor" in run.err
    assert cli("users", "list", "--store", db, "-o", "json").json() == []


def test_audit_lists_users_add(cli: Cli, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWCTL_USER", "ann")
    assert cli("users", "add", "ann", "--role", "flow-admin", "--store", db).code == 0
    monkeypatch.setenv("FLOWCTL_NOW", "2026-03-10T13:00:00+01:00")
    assert cli("users", "add", "bob", "--role", "content-editor", "--store", db).code == 0
    monkeypatch.setenv("FLOWCTL_USER", "bob")  # a content-editor may view the log

    run = cli("audit", "--store", db, "-o", "json")
    assert run.code == 0, run.err
    assert run.json() == [
        {
            "at": "2026-03-10T12:00:00+00:00",
            "user": "ann",
            "command": "users add",
            "object": "user/bob",
            "detail": "content-editor",
        },
        {
            "at": "2026-03-10T11:00:00+00:00",
            "user": "ann",
            "command": "users add",
            "object": "user/ann",
            "detail": "flow-admin",
        },
    ]
    assert len(cli("audit", "--store", db, "-o", "json", "--limit", "1").json()) == 1
    since = cli("audit", "--store", db, "-o", "json", "--since", "30m").json()
    assert [e["object"] for e in since] == ["user/bob"]
    since = cli("audit", "--store", db, "-o", "json", "--since", "2026-03-10T11:30:00Z").json()
    assert [e["object"] for e in since] == ["user/bob"]
    table = cli("audit", "--store", db)
    assert table.code == 0 and "COMMAND" in table.out and "user/ann" in table.out


def test_audit_bad_since_exit_two(cli: Cli, db: Path) -> None:
    run = cli("audit", "--store", db, "--since", "yesterday")
    assert run.code == 2 and "--since" in run.err


def test_describe_is_not_audited(cli: Cli, db: Path) -> None:
    assert cli("describe", "upsell", "--store", db).code == 0
    run = cli("audit", "--store", db, "-o", "json")
    assert (run.code, run.json()) == (0, [])


def test_output_as_a_global_option_before_the_command(cli: Cli, db: Path) -> None:
    run = cli("--store", db, "-o", "json", "get", "flows")
    assert run.code == 0, run.err
    assert [r["name"] for r in run.json()] == ["upsell", "welcome", "winback"]
    own = cli("--store", db, "-o", "json", "get", "flows", "-o", "table")  # the command's wins
    assert own.code == 0 and own.out.startswith("NAME")


def test_output_yaml_has_the_json_keys_and_values(cli: Cli, db: Path) -> None:
    from ruamel.yaml import YAML

    as_json = cli("describe", "welcome", "--store", db, "-o", "json").json()
    run = cli("describe", "welcome", "--store", db, "-o", "yaml")
    assert run.code == 0, run.err
    assert YAML(typ="safe").load(run.out) == as_json


def test_output_a_command_does_not_have_is_a_usage_error(cli: Cli, db: Path) -> None:
    run = cli("--store", db, "-o", "sarif", "get", "flows")
    assert run.code == 2
    assert "'sarif' is not one of" in run.err


def test_output_table_and_text_stand_for_each_other_globally(cli: Cli, db: Path) -> None:
    run = cli("--store", db, "-o", "text", "get", "flows")
    assert run.code == 0 and run.out.startswith("NAME")
