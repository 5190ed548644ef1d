"""`flowctl simulate`, `flowctl test` and `flowctl graph` from the command line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import FLOWS

START = "2026-03-02T08:00:00+01:00"
UPSELL = FLOWS / "offer-upsell.yaml"
EXAMPLES = sorted(p for p in FLOWS.glob("*.yaml"))


@pytest.mark.parametrize("flow", EXAMPLES, ids=lambda p: p.stem)
def test_simulate_every_example_flow_runs(cli, flow: Path) -> None:  # type: ignore[no-untyped-def]
    contact = json.dumps(
        {
            "id": "c1",
            "email": "ann@example.com",
            "phone": "+4790000000",
            "category": "prospect",
            "webinar_at": "2026-03-20T18:00:00+01:00",
        }
    )
    run = cli(
        "simulate",
        flow,
        "--participant",
        contact,
        "--start",
        START,
        "--content",
        FLOWS / "content",
        "-o",
        "json",
    )
    assert run.code == 0, run.err
    data = run.json()
    assert data["flow"] == flow.stem
    assert data["status"] in {None, "active", "waiting", "completed", "succeeded", "exited"}
    assert [e["step"] for e in data["timeline"] if e["step"]] == data["path"]


def test_simulate_json_keys_and_path(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli(
        "simulate",
        UPSELL,
        "--participant",
        '{"email": "ann@example.com", "tags": ["customer-1"]}',
        "--start",
        START,
        "-o",
        "json",
    )
    data = run.json()
    assert {
        "flow",
        "enrolled",
        "reason",
        "status",
        "succeeded",
        "path",
        "timeline",
        "effects",
    } <= set(data)
    assert data["path"] == ["sub-c1", "give-them-time", "bought-offer-1", "unsub-c1", "sub-c2"]
    assert data["effects"][-1] == {
        "at": "2026-03-07T08:00:00+01:00",
        "step": "sub-c2",
        "type": "subscribe_campaign",
        "campaign": "campaign-2",
        **{
            k: v
            for k, v in data["effects"][-1].items()
            if k not in ("at", "step", "type", "campaign")
        },
    }


def test_simulate_filtered_contact_not_enrolled(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli(
        "simulate",
        UPSELL,
        "--participant",
        '{"email": "b@example.com", "tags": ["customer-2"]}',
        "--start",
        START,
        "-o",
        "json",
    )
    data = run.json()
    assert (data["enrolled"], data["reason"], data["path"]) == (False, "filter", [])


def test_simulate_events_file_enters_on_matching_trigger(cli, write) -> None:  # type: ignore[no-untyped-def]
    events = write(
        "events.jsonl",
        '{"type": "funnel_form_subscribed", "at": "+1d", "data": {"form": "optin-page"}}\n',
    )
    run = cli(
        "simulate",
        UPSELL,
        "--participant",
        '{"email": "c@example.com"}',
        "--events",
        events,
        "--start",
        START,
        "-o",
        "json",
    )
    assert run.json()["timeline"][0]["at"] == "2026-03-03T08:00:00+01:00"


def test_simulate_text_shows_timeline_and_why(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("simulate", UPSELL, "--participant", '{"email": "a@example.com"}', "--start", START)
    assert run.code == 0
    assert "bought-offer-1" in run.out
    assert "tag customer-1: no" in run.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--participant", "{not json"], 2, "not valid JSON"),
        (["--participant", "missing.json"], 2, "--participant missing.json: no such file"),
        (["--participant", "."], 2, "--participant . is a folder, not a file"),
        (["--participant", "[1, 2]"], 1, "a contact must be a mapping of fields, not list"),
        (["--participant", '{"email": "a@x.io", "tags": "vip"}'], 1, "'tags' must be a list"),
        (["--participants", "missing.csv"], 2, "--participants missing.csv: no such file"),
        (["--participant", '{"id": "c1"}', "--events", "."], 2, "is a folder, not a file"),
        ([], 2, "exactly one of --participant"),
        (["--participant", '{"id": "c1"}', "--start", "yesterday"], 2, "not an instant"),
        (["--participant", '{"id": "c1"}', "--horizon", "3"], 2, "--horizon: '3' is not"),
    ],
)
def test_simulate_bad_input_one_clear_message(cli, args, code, message) -> None:  # type: ignore[no-untyped-def]
    run = cli("simulate", UPSELL, *args)
    assert run.code == code
    assert message in run.err
    assert "Traceback" not in run.err


def test_simulate_and_test_keep_the_frequency_cap_of_the_config(cli, write) -> None:  # type: ignore[no-untyped-def]
    steps = "\n".join(f"    - {{id: m{i}, type: send_email, mailing: hi}}" for i in (1, 2, 3))
    flow = write(
        "three.yaml",
        "apiVersion: flowctl/v1\nkind: Flow\nmetadata: {name: three}\nspec:\n"
        "  triggers: [{type: manual}]\n  steps:\n" + steps + "\n---\n"
        "apiVersion: flowctl/v1\nkind: Mailing\nmetadata: {name: hi}\n"
        "spec: {subject: Hi, text: Hi}\n",
    )
    config = write("flowctl.toml", '[limits]\nmessages_per_contact = 2\nper = "1d"\n')
    args = ["simulate", flow, "--participant", '{"email": "a@example.com"}', "--start", START]
    capped = cli("--config", config, *args, "-o", "json").json()
    sent = [t["at"] for t in capped["timeline"] if t["step"] and t["outcome"] == "sent"]
    assert len(sent) == 3 and sent[2] > sent[1]  # the third a day later
    free = cli(*args, "-o", "json").json()
    assert len({t["at"] for t in free["timeline"] if t["outcome"] == "sent"}) == 1


def test_a_send_that_failed_counts_for_no_cap_and_test_keeps_the_cap(cli, write) -> None:  # type: ignore[no-untyped-def]
    flow = write(
        "two.yaml",
        "apiVersion: flowctl/v1\nkind: Flow\nmetadata: {name: two}\nspec:\n"
        "  triggers: [{type: manual}]\n  steps:\n"
        "    - {id: bad, type: send_email, mailing: broken}\n"
        "    - {id: pause, type: delay, duration: 1h}\n"
        "    - {id: good, type: send_email, mailing: fine}\n"
        "    - {id: more, type: send_email, mailing: fine}\n---\n"
        "apiVersion: flowctl/v1\nkind: Mailing\nmetadata: {name: broken}\n"
        "spec: {subject: '{{ contact.first_name.upper() }}', text: x}\n---\n"
        "apiVersion: flowctl/v1\nkind: Mailing\nmetadata: {name: fine}\n"
        "spec: {subject: Hi, text: Hi}\n",
    )
    config = write("flowctl.toml", '[limits]\nmessages_per_contact = 1\nper = "1d"\n')
    args = ["simulate", flow, "--participant", '{"email": "a@example.com"}', "--start", START]
    result = cli("--config", config, *args, "-o", "json").json()
    steps = {t["step"]: t for t in result["timeline"] if t["step"]}
    assert steps["bad"]["outcome"] == "failed"
    assert steps["good"]["outcome"] == "sent"  # the failed one used no room under the cap
    assert steps["good"]["at"] == steps["pause"]["at"]
    assert steps["more"]["at"] > steps["good"]["at"]  # this one waits a day
    case = write(
        "two.test.yaml",
        "apiVersion: flowctl/v1\nkind: FlowTest\nmetadata: {name: capped}\nspec:\n"
        f"  flow: two.yaml\n  contact: {{email: a@example.com}}\n  start: '{START}'\n"
        "  horizon: 2h\n  expect: {status: waiting}\n",
    )
    assert cli("--config", config, "test", case).code == 0  # "more" waits for the cap
    assert cli("test", case).code == 1  # without it, "more" is sent: completed


def test_simulate_population_without_a_key_column_is_one_error(cli, write) -> None:  # type: ignore[no-untyped-def]
    people = write("people.csv", "first_name\nAnn\nBo\n")
    run = cli("simulate", UPSELL, "--participants", people)
    assert run.code == 1
    assert run.err.count("\n") == 1 and "has neither an 'email' nor an 'id' column" in run.err


def test_simulate_bad_event_line_reported_with_line_number(cli, write) -> None:  # type: ignore[no-untyped-def]
    events = write("events.jsonl", '{"type": "tag_added"}\n{broken\n')
    run = cli("simulate", UPSELL, "--participant", '{"id": "c1"}', "--events", events)
    assert run.code == 1
    assert f"{events}:2" in run.err


def test_simulate_invalid_flow_shows_diagnostics(cli, write) -> None:  # type: ignore[no-untyped-def]
    flow = write("bad.yaml", UPSELL.read_text().replace("duration: 5d", "duration: 5"))
    run = cli("simulate", flow, "--participant", "{}")
    assert run.code == 1
    assert "[schema]" in run.err and "nothing was done" in run.err


def test_simulate_population_forecast_counts_and_bad_rows(cli, write) -> None:  # type: ignore[no-untyped-def]
    rows = ["email,tags"] + [
        f"p{i}@example.com,{'customer-1' if i % 4 == 0 else ''}" for i in range(40)
    ]
    rows.insert(3, "bad,row,extra")
    people = write("people.csv", "\n".join(rows) + "\n")
    run = cli("simulate", UPSELL, "--participants", people, "--start", START, "-o", "json")
    assert run.code == 0
    data = run.json()
    assert (data["participants"], data["enrolled"]) == (40, 40)
    assert data["steps"]["bought-offer-1"]["outcomes"] == {"then": 10, "else": 30}
    assert data["rejected"] == [{"line": 4, "message": "has 3 cells, the header has 2 columns"}]
    assert f"{people}:4: skipped" in run.err


def test_flow_tests_examples_all_pass(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junit = tmp_path / "junit.xml"
    run = cli("test", FLOWS / "tests", "--junit", junit)
    assert run.code == 0, run.out
    root = ET.parse(junit).getroot()
    assert int(root.get("tests", "0")) >= 40
    assert root.get("failures") == "0"


def test_flow_test_failure_exit_one_with_diff(cli, write) -> None:  # type: ignore[no-untyped-def]
    text = (FLOWS / "tests" / "offer-upsell.test.yaml").read_text().split("\n---\n")[0]
    text = text.replace("flow: ../offer-upsell.yaml", f"flow: {UPSELL}")
    case = write("t.yaml", text.replace("status: completed", "status: exited"))
    run = cli("test", case, "-o", "json")
    assert run.code == 1
    (result,) = run.json()
    assert result["passed"] is False
    assert "status: expected 'exited', got 'completed'" in result["failures"]
    assert '-  "status": "exited"' in result["diff"]


def test_flow_test_missing_flow_file_fails_that_case_and_runs_the_others(
    cli, write, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    text = (FLOWS / "tests" / "offer-upsell.test.yaml").read_text().split("\n---\n")[0]
    broken = write("a.yaml", text.replace("flow: ../offer-upsell.yaml", "flow: nowhere.yaml"))
    good = write("b.yaml", text.replace("flow: ../offer-upsell.yaml", f"flow: {UPSELL}"))
    junit = tmp_path / "junit.xml"
    run = cli("test", broken, good, "--junit", junit)
    assert run.code == 1
    assert "FAIL" in run.out and "PASS" in run.out
    assert "flow file 'nowhere.yaml' not found" in run.out
    assert "Traceback" not in run.err
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("2", "1")


@pytest.mark.parametrize("command", ["simulate", "graph"])
def test_a_flow_file_must_hold_one_flow(cli, command: str) -> None:  # type: ignore[no-untyped-def]
    extra = ["--participant", '{"email": "a@example.com"}'] if command == "simulate" else []
    several = cli(command, FLOWS, *extra)
    assert several.code == 2
    assert "holds 6 flows (customer-onboarding, lead-nurture" in several.err
    none = cli(command, FLOWS / "content", *extra)
    assert none.code == 2 and "holds no Flow" in none.err
    # Content folders may hold flows too: only FLOW_FILE's count.
    if command == "simulate":
        assert cli(command, UPSELL, *extra, "--content", FLOWS).code == 0


@pytest.mark.parametrize("where", ["missing/junit.xml", ".", ""])
def test_flow_test_junit_file_that_cannot_be_written_is_a_usage_error(
    cli, tmp_path: Path, where: str
) -> None:  # type: ignore[no-untyped-def]
    run = cli("test", FLOWS / "tests" / "offer-upsell.test.yaml", "--junit", tmp_path / where)
    assert run.code == 2, run.err
    assert "cannot write the JUnit XML to" in run.err and "Traceback" not in run.err


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_draws_branches_and_goto(cli, fmt: str) -> None:  # type: ignore[no-untyped-def]
    run = cli("graph", FLOWS / "payment-recovery.yaml", "-o", fmt)
    assert run.code == 0
    assert ("flowchart TD" if fmt == "mermaid" else "digraph") in run.out
    assert "timeout" in run.out and "met" in run.out


def test_simulate_content_takes_several_paths_after_one_flag(cli) -> None:  # type: ignore[no-untyped-def]
    flow = FLOWS / "lead-nurture.yaml"
    contact = '{"email": "ann@example.com", "category": "prospect"}'
    run = cli(
        "simulate",
        flow,
        "--participant",
        contact,
        "--start",
        START,
        "--content",
        FLOWS / "content" / "webinar-registration.yaml",
        FLOWS / "content" / "lead-nurture.yaml",  # the second one renders the mail
        "-o",
        "json",
    )
    assert run.code == 0, run.err
    first = run.json()["effects"][0]
    assert first["content"]["subject"] == "Thanks for getting in touch, there"
