"""A flow's lifecycle (spec §8): activate, pause, resume, deactivate, delete.

Each test drives the CLI against a store file in ``tmp_path`` with
``FLOWCTL_NOW`` set, and reads states, activation periods, participants and
the audit log back through the Store API.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flowctl.store import FLOW, Activation
from tests.conftest import FLOWS, Run
from tests.operate.test_apply import (
    CONTENT,
    FLOW_V1,
    NOW,
    P,
    add_participants,
    add_user,
    at,
    participant_state,
    queue_message,
    read,
    seed,
)

Cli = Callable[..., Run]
Write = Callable[[str, str], Path]

T1 = "2026-03-03T09:00:00+01:00"
T2 = "2026-03-04T09:00:00+01:00"
T3 = "2026-03-05T09:00:00+01:00"
T4 = "2026-03-06T09:00:00+01:00"

SMS_FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: texter}
spec:
  triggers: [{type: form_submitted}]
  steps:
    - id: text
      type: send_sms
      sms: s-hi
---
apiVersion: flowctl/v1
kind: Sms
metadata: {name: s-hi}
spec: {text: "Hi {{ contact.first_name | default('there') }}"}
"""

# Content is named at the top level and inside branches; none of it is applied.
NEEDS_EVERYTHING = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: needs-everything}
spec:
  triggers: [{type: form_submitted}]
  steps:
    - id: first
      type: send_email
      mailing: missing-one
    - id: check
      type: decision
      if: {tag: vip}
      then:
        - id: vip-mail
          type: send_email
          mailing: missing-two
      else:
        - id: text
          type: send_sms
          sms: missing-sms
"""

LIVE = [
    P("waiting-1", "waiting", "wait", "delay"),
    P("active-1", "active", "bye"),
    P("done-1", "completed", None),
]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", NOW)
    monkeypatch.setenv("FLOWCTL_USER", "ann")
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)
    monkeypatch.delenv("FLOWCTL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "flowctl.db")


@pytest.fixture
def demo(cli: Cli, store: str, write: Write) -> str:
    """The demo flow with its content applied, a draft; returns the store path."""
    seed(cli, store, write("flows/demo.yaml", FLOW_V1), write("flows/content.yaml", CONTENT))
    return store


@pytest.fixture
def active_demo(cli: Cli, demo: str) -> str:
    """The demo flow, activated at NOW."""
    run = cli("activate", "demo", "--store", demo)
    assert run.code == 0, run.err
    return demo


def state_of(store: str, name: str = "demo") -> str:
    with read(store) as st:
        row = st.flow(name)
    assert row is not None
    return row.state


def periods(store: str, name: str = "demo") -> list[Activation]:
    with read(store) as st:
        return st.activations(name)


# -- activate, pause, resume, deactivate ------------------------------------


def test_activate_a_draft(cli: Cli, demo: str) -> None:
    assert state_of(demo) == "draft"
    assert periods(demo) == []
    run = cli("activate", "demo", "--store", demo)
    assert run.code == 0, run.err
    assert run.out.strip() == "flow/demo activated"
    assert state_of(demo) == "active"
    assert periods(demo) == [Activation("demo", at(NOW), None)]
    with read(demo) as st:
        row = st.flow("demo")
        assert row is not None and row.activated_at == at(NOW)


@pytest.mark.parametrize("command", ["activate", "pause"])
def test_a_command_that_read_the_state_before_another_committed_changes_nothing(
    demo: str, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    from flowctl.operate import lifecycle
    from flowctl.store import open_store

    with open_store(demo) as st:
        if command == "pause":
            st.set_flow_state("demo", "active", at(NOW))
        stale = st.flow("demo")  # what a second process read before the first committed
        st.set_flow_state("demo", "active" if command == "activate" else "paused", at(NOW))
    monkeypatch.setattr(lifecycle, "require_flow", lambda store, name: stale)
    with open_store(demo) as st:
        if command == "activate":
            moved = lifecycle.activate(st, "demo", sms_configured=False, now=at(T1))
        else:
            moved = lifecycle.pause(st, "demo", now=at(T1))
        assert moved.before == moved.after  # "nothing changed", not a second transition
        assert [e for e in st.audit_log() if e.command == command] == []
        assert len(st.activations("demo")) == 1


def test_pause_and_resume_keep_the_activation_period(
    cli: Cli, active_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", T1)
    paused = cli("pause", "demo", "--store", active_demo)
    assert paused.code == 0, paused.err
    assert paused.out.strip() == "flow/demo paused"
    assert state_of(active_demo) == "paused"
    assert periods(active_demo) == [Activation("demo", at(NOW), None)]

    monkeypatch.setenv("FLOWCTL_NOW", T2)
    resumed = cli("resume", "demo", "--store", active_demo)
    assert resumed.code == 0, resumed.err
    assert resumed.out.strip() == "flow/demo resumed"
    assert state_of(active_demo) == "active"
    assert periods(active_demo) == [Activation("demo", at(NOW), None)]
    with read(active_demo) as st:
        row = st.flow("demo")
        assert row is not None and row.activated_at == at(NOW)


def test_deactivate_closes_the_period_and_reactivating_opens_another(
    cli: Cli, active_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", T1)
    assert cli("pause", "demo", "--store", active_demo).code == 0
    monkeypatch.setenv("FLOWCTL_NOW", T3)
    run = cli("deactivate", "demo", "--store", active_demo)
    assert run.code == 0, run.err
    assert "flow/demo deactivated" in run.out
    assert state_of(active_demo) == "deactivated"
    assert periods(active_demo) == [Activation("demo", at(NOW), at(T3))]
    with read(active_demo) as st:
        row = st.flow("demo")
        assert row is not None and row.activated_at is None

    monkeypatch.setenv("FLOWCTL_NOW", T4)
    again = cli("activate", "demo", "--store", active_demo)
    assert again.code == 0, again.err
    assert state_of(active_demo) == "active"
    assert periods(active_demo) == [
        Activation("demo", at(NOW), at(T3)),
        Activation("demo", at(T4), None),
    ]
    with read(active_demo) as st:
        row = st.flow("demo")
        assert row is not None and row.activated_at == at(T4)


def test_activate_a_paused_flow_resumes_it_in_the_same_period(
    cli: Cli, active_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("pause", "demo", "--store", active_demo).code == 0
    monkeypatch.setenv("FLOWCTL_NOW", T2)
    run = cli("activate", "demo", "--store", active_demo)
    assert run.code == 0, run.err
    assert state_of(active_demo) == "active"
    assert periods(active_demo) == [Activation("demo", at(NOW), None)]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("activate", "active")], {"previous_state": "draft", "state": "active"}),
        (
            [("activate", "active"), ("pause", "paused")],
            {"previous_state": "active", "state": "paused"},
        ),
        (
            [("activate", "active"), ("pause", "paused"), ("resume", "active")],
            {"previous_state": "paused", "state": "active"},
        ),
        (
            [("activate", "active"), ("deactivate", "deactivated")],
            {"previous_state": "active", "state": "deactivated"},
        ),
    ],
    ids=["activate", "pause", "resume", "deactivate"],
)
def test_lifecycle_json(
    cli: Cli, demo: str, steps: list[tuple[str, str]], expected: dict[str, str]
) -> None:
    for command, _ in steps[:-1]:
        assert cli(command, "demo", "--store", demo).code == 0
    command, state = steps[-1]
    run = cli(command, "demo", "--store", demo, "-o", "json")
    assert run.code == 0, run.err
    data = run.json()
    wanted = {"name": "demo", "changed": True, "canceled": 0, "warnings": [], **expected}
    assert {k: data.get(k) for k in wanted} == wanted  # more keys may be added
    assert state_of(demo) == state


def test_lifecycle_changes_are_audited(
    cli: Cli, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command, when in (
        ("activate", NOW),
        ("pause", T1),
        ("resume", T2),
        ("deactivate", T3),
    ):
        monkeypatch.setenv("FLOWCTL_NOW", when)
        assert cli(command, "demo", "--store", demo).code == 0
    with read(demo) as st:
        entries = [e for e in st.audit_log() if e.object == "flow/demo"]
    lifecycle = [(e.command, e.at, e.user) for e in reversed(entries) if e.command != "apply"]
    assert lifecycle == [
        ("activate", at(NOW), "ann"),
        ("pause", at(T1), "ann"),
        ("resume", at(T2), "ann"),
        ("deactivate", at(T3), "ann"),
    ]


def test_a_new_version_of_an_active_flow_stays_active(
    cli: Cli, active_demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", T1)
    flow = tmp_path / "flows" / "demo.yaml"
    flow.write_text(FLOW_V1.replace("duration: 2d", "duration: 3d"), encoding="utf-8")
    run = cli("apply", flow, "--store", active_demo, "-o", "json")
    assert run.json()[0]["version"] == 2
    with read(active_demo) as st:
        row = st.flow("demo")
        assert row is not None and (row.state, row.version) == ("active", 2)
    assert periods(active_demo) == [Activation("demo", at(NOW), None)]


def test_activate_warns_about_a_target_flow_that_is_not_active(cli: Cli, store: str) -> None:
    seed(cli, store, FLOWS / "lead-nurture.yaml", FLOWS / "content" / "lead-nurture.yaml")
    seed(cli, store, FLOWS / "customer-onboarding.yaml", FLOWS / "content")
    run = cli("activate", "lead-nurture", "--store", store, "-o", "json")
    [warning] = [w for w in run.json()["warnings"] if "flow/customer-onboarding" in w]
    assert "which is draft: nobody enters there until it is activated" in warning
    cli("activate", "customer-onboarding", "--store", store, "--yes")
    cli("deactivate", "lead-nurture", "--store", store, "--yes")
    again = cli("activate", "lead-nurture", "--store", store, "-o", "json")
    assert not [w for w in again.json()["warnings"] if "customer-onboarding" in w]


def test_activate_warns_about_flows_it_enters_contacts_into(cli: Cli, store: str) -> None:
    seed(cli, store, FLOWS / "lead-nurture.yaml", FLOWS / "content" / "lead-nurture.yaml")
    run = cli("activate", "lead-nurture", "--store", store, "-o", "json")
    assert run.code == 0, run.err
    assert run.json()["state"] == "active"
    assert any("flow/customer-onboarding" in w for w in run.json()["warnings"])
    text = cli("deactivate", "lead-nurture", "--store", store)
    assert text.code == 0
    again = cli("activate", "lead-nurture", "--store", store)
    assert again.code == 0
    assert "warning:" in again.err and "customer-onboarding" in again.err


# -- refusals and no-ops ----------------------------------------------------


def test_activate_refused_naming_every_missing_mailing(cli: Cli, store: str, write: Write) -> None:
    seed(cli, store, write("flows/demo.yaml", FLOW_V1))  # no content applied
    run = cli("activate", "demo", "--store", store)
    assert run.code == 1
    assert "mailing/m-hello" in run.err
    assert "mailing/m-bye" in run.err
    assert "Traceback" not in run.err
    assert state_of(store) == "draft"
    assert periods(store) == []


def test_activate_refused_listing_every_reason(cli: Cli, store: str, write: Write) -> None:
    seed(cli, store, write("flows/needs.yaml", NEEDS_EVERYTHING))
    run = cli("activate", "needs-everything", "--store", store)
    assert run.code == 1
    for reason in ("mailing/missing-one", "mailing/missing-two", "sms/missing-sms", "[sms]"):
        assert reason in run.err, reason
    assert state_of(store, "needs-everything") == "draft"


def test_activate_refused_until_the_content_is_applied(cli: Cli, store: str, write: Write) -> None:
    flow = write("flows/demo.yaml", FLOW_V1)
    seed(cli, store, flow)
    assert cli("activate", "demo", "--store", store).code == 1
    seed(cli, store, write("flows/content.yaml", CONTENT))
    run = cli("activate", "demo", "--store", store)
    assert run.code == 0, run.err
    assert state_of(store) == "active"


def test_activate_sms_flow_needs_the_sms_channel(
    cli: Cli, store: str, write: Write, tmp_path: Path
) -> None:
    seed(cli, store, write("flows/texter.yaml", SMS_FLOW))
    no_config = cli("activate", "texter", "--store", store)
    assert no_config.code == 1
    assert "[sms]" in no_config.err
    assert "SMS" in no_config.err

    email_only = write("conf/email-only.toml", '[email]\ntransport = "outbox"\n')
    refused = cli("--config", email_only, "activate", "texter", "--store", store)
    assert refused.code == 1
    assert "[sms]" in refused.err
    assert state_of(store, "texter") == "draft"

    with_sms = write("conf/channels.toml", '[sms]\ntransport = "outbox"\n')
    run = cli("--config", with_sms, "activate", "texter", "--store", store)
    assert run.code == 0, run.err
    assert state_of(store, "texter") == "active"


def test_activate_finds_flowctl_toml_in_the_current_folder(
    cli: Cli, store: str, write: Write
) -> None:
    seed(cli, store, write("flows/texter.yaml", SMS_FLOW))
    write("flowctl.toml", '[sms]\ntransport = "outbox"\n')  # tmp_path is the cwd
    run = cli("activate", "texter", "--store", store)
    assert run.code == 0, run.err


def test_activate_reads_the_config_named_by_the_environment(
    cli: Cli, store: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(cli, store, write("flows/texter.yaml", SMS_FLOW))
    monkeypatch.setenv("FLOWCTL_CONFIG", str(write("conf/x.toml", '[sms]\ntransport = "outbox"\n')))
    run = cli("activate", "texter", "--store", store)
    assert run.code == 0, run.err


def test_pause_of_a_draft_is_refused(cli: Cli, demo: str) -> None:
    run = cli("pause", "demo", "--store", demo)
    assert run.code == 1
    assert "draft" in run.err
    assert "Traceback" not in run.err
    assert state_of(demo) == "draft"


def test_resume_of_a_draft_is_refused(cli: Cli, demo: str) -> None:
    run = cli("resume", "demo", "--store", demo)
    assert run.code == 1
    assert state_of(demo) == "draft"


def test_deactivate_of_a_draft_is_refused(cli: Cli, demo: str) -> None:
    run = cli("deactivate", "demo", "--store", demo)
    assert run.code == 1
    assert "draft" in run.err
    assert state_of(demo) == "draft"


def test_resume_of_a_deactivated_flow_is_refused(cli: Cli, active_demo: str) -> None:
    assert cli("deactivate", "demo", "--store", active_demo).code == 0
    run = cli("resume", "demo", "--store", active_demo)
    assert run.code == 1
    assert state_of(active_demo) == "deactivated"


def test_resume_of_an_active_flow_is_a_no_op(cli: Cli, active_demo: str) -> None:
    with read(active_demo) as st:
        audit_before = st.audit_log()
    run = cli("resume", "demo", "--store", active_demo)
    assert run.code == 0, run.err
    assert "already" in run.out
    as_json = cli("resume", "demo", "--store", active_demo, "-o", "json")
    assert as_json.code == 0
    assert as_json.json()["changed"] is False
    assert as_json.json()["state"] == "active"
    assert state_of(active_demo) == "active"
    assert periods(active_demo) == [Activation("demo", at(NOW), None)]
    with read(active_demo) as st:
        assert st.audit_log() == audit_before


@pytest.mark.parametrize("command", ["activate", "pause"])
def test_asking_for_the_current_state_changes_nothing(
    cli: Cli, active_demo: str, command: str
) -> None:
    if command == "pause":
        assert cli("pause", "demo", "--store", active_demo).code == 0
    run = cli(command, "demo", "--store", active_demo, "-o", "json")
    assert run.code == 0, run.err
    assert run.json()["changed"] is False
    assert len(periods(active_demo)) == 1


def test_content_editor_cannot_change_the_lifecycle(
    cli: Cli, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(demo, "ann", "flow-admin")
    add_user(demo, "carl", "content-editor")
    monkeypatch.setenv("FLOWCTL_USER", "carl")
    run = cli("activate", "demo", "--store", demo)
    assert run.code == 1
    assert "activate, pause, resume or deactivate a flow" in run.err
    assert state_of(demo) == "draft"
    monkeypatch.setenv("FLOWCTL_USER", "ann")
    assert cli("activate", "demo", "--store", demo).code == 0
    monkeypatch.setenv("FLOWCTL_USER", "carl")
    for command in ("pause", "deactivate"):
        refused = cli(command, "demo", "--store", demo)
        assert refused.code == 1, command
        assert "lacks the right" in refused.err
    assert state_of(demo) == "active"


# -- deactivate with participants -------------------------------------------


def test_deactivate_says_whom_it_affects_and_lets_them_finish(cli: Cli, active_demo: str) -> None:
    add_participants(active_demo, LIVE)
    run = cli("deactivate", "demo", "--store", active_demo)
    assert run.code == 0, run.err
    assert "2 active participants" in run.err
    assert "1 with a scheduled step" in run.err
    assert "go on to the end" in run.err
    assert state_of(active_demo) == "deactivated"
    with read(active_demo) as st:
        assert st.participant_counts("demo") == {"waiting": 1, "active": 1, "completed": 1}


def test_deactivate_cancel_scheduled_cancels_every_live_participant(
    cli: Cli, active_demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_participants(active_demo, LIVE)
    monkeypatch.setenv("FLOWCTL_NOW", T1)
    run = cli("deactivate", "demo", "--cancel-scheduled", "--store", active_demo)
    assert run.code == 0, run.err
    assert "2 active participants" in run.err and "will be canceled" in run.err
    assert "2 participants" in run.out and "canceled" in run.out
    with read(active_demo) as st:
        assert st.live_participants("demo") == []
        assert st.participant_counts("demo") == {"canceled": 2, "completed": 1}
        newest = st.audit_log()[0]
    assert newest.command == "deactivate --cancel-scheduled"
    for contact in ("waiting-1", "active-1"):
        state = participant_state(active_demo, contact)
        assert state.status == "canceled"
        assert state.ended_at == at(T1)
        assert state.due is None
    assert participant_state(active_demo, "done-1").status == "completed"
    assert periods(active_demo) == [Activation("demo", at(NOW), at(T1))]


def test_deactivate_cancel_scheduled_json(cli: Cli, active_demo: str) -> None:
    add_participants(active_demo, LIVE)
    run = cli("deactivate", "demo", "--cancel-scheduled", "--store", active_demo, "-o", "json")
    assert run.code == 0, run.err
    data = run.json()
    wanted = {
        "name": "demo",
        "state": "deactivated",
        "previous_state": "active",
        "changed": True,
        "canceled": 2,
        "warnings": [],
    }
    assert {k: data.get(k) for k in wanted} == wanted
    assert run.err == ""  # the impact line is for people, not for JSON readers


def test_deactivate_cancel_scheduled_cancels_unsent_messages(cli: Cli, active_demo: str) -> None:
    add_participants(active_demo, LIVE)
    queue_message(active_demo, "active-1")
    run = cli("deactivate", "demo", "--cancel-scheduled", "--store", active_demo, "-o", "json")
    assert run.code == 0, run.err
    assert run.json()["messages_canceled"] == 1
    with read(active_demo) as st:
        assert [m.status for m in st.messages(flow="demo")] == ["canceled"]


def test_deactivate_without_cancel_keeps_unsent_messages(cli: Cli, active_demo: str) -> None:
    add_participants(active_demo, LIVE)
    queue_message(active_demo, "active-1")
    run = cli("deactivate", "demo", "--store", active_demo)
    assert run.code == 0, run.err
    with read(active_demo) as st:
        assert [m.status for m in st.messages(flow="demo")] == ["queued"]


def test_deactivate_cancel_scheduled_on_a_deactivated_flow_cancels_those_left(
    cli: Cli, active_demo: str
) -> None:
    add_participants(active_demo, LIVE)
    assert cli("deactivate", "demo", "--store", active_demo).code == 0
    run = cli("deactivate", "demo", "--cancel-scheduled", "--store", active_demo, "-o", "json")
    assert run.code == 0, run.err
    assert run.json()["canceled"] == 2
    with read(active_demo) as st:
        assert st.participant_counts("demo") == {"canceled": 2, "completed": 1}
    assert len(periods(active_demo)) == 1


# -- delete -----------------------------------------------------------------


def test_delete_is_refused_while_participants_are_live(cli: Cli, active_demo: str) -> None:
    add_participants(active_demo, LIVE)
    run = cli("delete", "demo", "--store", active_demo)
    assert run.code == 1
    assert "2 active participants" in run.err
    assert "--cancel-scheduled" in run.err
    with read(active_demo) as st:
        assert st.flow("demo") is not None

    assert cli("deactivate", "demo", "--cancel-scheduled", "--store", active_demo).code == 0
    deleted = cli("delete", "demo", "--store", active_demo)
    assert deleted.code == 0, deleted.err
    assert deleted.out.strip() == "flow/demo deleted"
    with read(active_demo) as st:
        assert st.flow("demo") is None
        assert st.versions(FLOW, "demo") == []
        assert st.activations("demo") == []
        assert st.participant_counts("demo") == {}  # gone with the flow
        newest = st.audit_log()[0]
    assert (newest.command, newest.object) == ("delete", "flow/demo")


@pytest.mark.parametrize("ref", ["demo", "flow/demo"])
def test_delete_a_draft_flow(cli: Cli, demo: str, ref: str) -> None:
    run = cli("delete", ref, "--store", demo)
    assert run.code == 0, run.err
    with read(demo) as st:
        assert st.flow("demo") is None
        assert st.document("Mailing", "m-hello") is not None  # its content stays


@pytest.mark.parametrize("state", ["active", "paused"])
def test_delete_of_content_used_by_a_running_flow_is_refused(
    cli: Cli, active_demo: str, state: str
) -> None:
    if state == "paused":
        assert cli("pause", "demo", "--store", active_demo).code == 0
    run = cli("delete", "mailing/m-hello", "--store", active_demo)
    assert run.code == 1
    assert "demo" in run.err
    with read(active_demo) as st:
        assert st.document("Mailing", "m-hello") is not None

    assert cli("deactivate", "demo", "--store", active_demo).code == 0
    deleted = cli("delete", "mailing/m-hello", "--store", active_demo)
    assert deleted.code == 0, deleted.err
    assert deleted.out.strip() == "mailing/m-hello deleted"


def test_delete_mailing_and_sms(cli: Cli, store: str, write: Write) -> None:
    seed(cli, store, write("flows/content.yaml", CONTENT), write("flows/texter.yaml", SMS_FLOW))
    run = cli("delete", "mailing/m-bye", "--store", store)
    assert run.code == 0, run.err
    sms = cli("delete", "sms/s-hi", "--store", store)
    assert sms.code == 0, sms.err
    with read(store) as st:
        assert st.document("Mailing", "m-bye") is None
        assert st.versions("Mailing", "m-bye") == []
        assert st.document("Sms", "s-hi") is None
        assert st.document("Mailing", "m-hello") is not None
        assert {e.object for e in st.audit_log() if e.command == "delete"} == {
            "mailing/m-bye",
            "sms/s-hi",
        }


def test_delete_of_missing_content_says_so(cli: Cli, demo: str) -> None:
    run = cli("delete", "mailing/nope", "--store", demo)
    assert run.code == 1
    assert "mailing/nope" in run.err
    assert "Traceback" not in run.err


def test_delete_with_a_bad_kind_is_a_usage_error(cli: Cli, demo: str) -> None:
    run = cli("delete", "widget/demo", "--store", demo)
    assert run.code == 2
    assert "widget/demo" in run.err
    with read(demo) as st:
        assert st.flow("demo") is not None


def test_content_editor_cannot_delete(cli: Cli, demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(demo, "ann", "flow-admin")
    add_user(demo, "carl", "content-editor")
    monkeypatch.setenv("FLOWCTL_USER", "carl")
    content = cli("delete", "mailing/m-bye", "--store", demo)
    assert content.code == 1
    assert "delete content" in content.err
    flow = cli("delete", "demo", "--store", demo)
    assert flow.code == 1
    assert "apply, delete or roll back a flow" in flow.err
    with read(demo) as st:
        assert st.document("Mailing", "m-bye") is not None
        assert st.flow("demo") is not None


# -- the examples -----------------------------------------------------------


def test_example_flows_activate_with_their_content(cli: Cli, store: str, write: Write) -> None:
    seed(cli, store, FLOWS)
    config = write("conf/channels.toml", '[sms]\ntransport = "outbox"\n')
    for flow in sorted(p.stem for p in FLOWS.glob("*.yaml")):
        run = cli("--config", config, "activate", flow, "--store", store, "-o", "json")
        assert run.code == 0, (flow, run.err)
        assert run.json()["state"] == "active"
    with read(store) as st:
        assert {f.state for f in st.flows()} == {"active"}
