"""`flowctl validate`: exit codes, output formats, positions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run

Cli = Callable[..., Run]
Write = Callable[[str, str], Path]

FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata:
  name: tiny
spec:
  triggers:
    - type: manual
  steps:
    - id: wait
      type: delay
      duraton: 2d
"""


def test_validate_unknown_key_points_at_key(cli, write) -> None:  # type: ignore[no-untyped-def]
    path = write("tiny.yaml", FLOW)
    run = cli("validate", "-o", "json", path)
    assert run.code == 1
    data = run.json()
    assert data["valid"] is False
    assert data["error_count"] == 1
    diag = data["diagnostics"][0]
    assert (diag["line"], diag["column"]) == (11, 7)
    assert diag["rule"] == "schema"
    assert diag["pointer"] == "/spec/steps/0/duraton"
    assert "did you mean 'duration'" in diag["message"]


def test_validate_text_shows_caret_under_column(cli, write) -> None:  # type: ignore[no-untyped-def]
    path = write("tiny.yaml", FLOW)
    run = cli("validate", path)
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{path}:11:7: error: unknown key 'duraton'")
    assert lines[0].endswith("[schema]")
    assert lines[1] == "        duraton: 2d"
    assert lines[2] == "        ^"


def test_validate_valid_file_exit_zero(cli, write) -> None:  # type: ignore[no-untyped-def]
    path = write("tiny.yaml", FLOW.replace("duraton", "duration"))
    run = cli("validate", "-o", "json", path)
    assert run.code == 0
    assert run.json() == {
        "valid": True,
        "files": 1,
        "error_count": 0,
        "warning_count": 0,
        "diagnostics": [],
    }


MAILING = """\
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: welcome}
spec: {from: a@b.example, subject: Hi, text: Hello}
"""
USES_MAILING = FLOW.replace(
    "    - id: wait\n      type: delay\n      duraton: 2d\n",
    "    - id: mail\n      type: send_email\n      mailing: welcome\n",
)
STARTS_FLOW = FLOW.replace(
    "    - id: wait\n      type: delay\n      duraton: 2d\n",
    "    - id: hand-over\n      type: start_flow\n      flow: other\n",
)
OTHER_FLOW = FLOW.replace("name: tiny", "name: other").replace("duraton", "duration")
VALID = FLOW.replace("duraton", "duration")
WARNS = VALID.replace("name: tiny", "name: warns") + (
    "    - {id: done, type: end}\n    - {id: lost, type: end}\n"
)
"""A valid flow with one warning (unreachable-step on line 13)."""


def diagnostics(run: Run) -> list[tuple[str, int, int, str]]:
    found = run.json()["diagnostics"]
    return [(Path(d["file"]).name, d["line"], d["column"], d["rule"]) for d in found]


# --- paths ------------------------------------------------------------------------


def test_validate_directory_recursive_yaml_and_yml(cli: Cli, write: Write, tmp_path: Path) -> None:
    write("flows/a.yaml", FLOW)
    write("flows/nested/deeper/b.yml", FLOW.replace("name: tiny", "name: deeper"))
    write("flows/notes.txt", "not: [yaml")
    write("flows/.hidden/c.yaml", "broken: [")
    write("flows/.dotfile.yaml", "broken: [")
    run = cli("validate", "-o", "json", tmp_path / "flows")
    assert run.code == 1
    data = run.json()
    assert data["files"] == 2
    assert sorted(diagnostics(run)) == [("a.yaml", 11, 7, "schema"), ("b.yml", 11, 7, "schema")]


def test_validate_directory_of_valid_files_exit_zero(
    cli: Cli, write: Write, tmp_path: Path
) -> None:
    write("flows/a.yaml", VALID)
    write("flows/sub/b.yml", OTHER_FLOW)
    run = cli("validate", tmp_path / "flows")
    assert run.code == 0
    assert run.out.strip() == "2 files valid"


def test_validate_folder_without_flows_warns(cli: Cli, write: Write, tmp_path: Path) -> None:
    write("flows/notes.txt", "not yaml")
    run = cli("validate", "-o", "json", tmp_path / "flows")
    assert (run.code, run.json()["files"]) == (0, 0)
    assert "warning: no *.yaml or *.yml files in" in run.err


def test_validate_nonexistent_path_exit_two(cli: Cli, tmp_path: Path) -> None:
    run = cli("validate", tmp_path / "missing.yaml")
    assert run.code == 2
    assert "missing.yaml: no such file or directory" in run.err
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    "args",
    [("-o", "xml"), ("--fail-on", "info"), ("--no-such-option",), ()],
)
def test_validate_bad_option_exit_two(cli: Cli, write: Write, args: tuple[str, ...]) -> None:
    path = write("ok.yaml", VALID)
    run = cli("validate", *args, *([path] if args else []))
    assert run.code == 2
    assert "Traceback" not in run.err


def test_validate_stdin_filename_without_dash_exit_two(cli: Cli, write: Write) -> None:
    run = cli("validate", "--stdin-filename", "x.yaml", write("ok.yaml", VALID))
    assert run.code == 2
    assert "--stdin-filename goes with '-'" in run.err


# --- documents and references -------------------------------------------------------


def test_validate_positions_in_later_documents(cli: Cli, write: Write) -> None:
    text = VALID + "---\n" + MAILING + "---\n" + FLOW.replace("name: tiny", "name: third")
    path = write("multi.yaml", text)
    run = cli("validate", "-o", "json", path)
    assert run.code == 1
    (diag,) = run.json()["diagnostics"]
    # The third document starts on line 18; its 'duraton' is its 11th line.
    assert (diag["line"], diag["column"]) == (28, 7)
    assert diag["pointer"] == "/spec/steps/0/duraton"


def test_validate_second_document_error_line(cli: Cli, write: Write) -> None:
    path = write("two.yaml", MAILING + "---\n" + MAILING.replace("welcome", "Bad Name"))
    (diag,) = cli("validate", "-o", "json", path).json()["diagnostics"]
    assert (diag["line"], diag["column"], diag["pointer"]) == (8, 18, "/metadata/name")


def test_validate_mailing_in_other_file_found(cli: Cli, write: Write) -> None:
    flow, content = write("flow.yaml", USES_MAILING), write("content/mail.yaml", MAILING)
    run = cli("validate", "--fail-on", "warning", "-o", "json", flow, content)
    assert run.code == 0
    assert run.json()["diagnostics"] == []


def test_validate_mailing_not_given_warns(cli: Cli, write: Write) -> None:
    write("content/mail.yaml", MAILING)
    run = cli("validate", "-o", "json", write("flow.yaml", USES_MAILING))
    assert run.code == 0
    assert diagnostics(run) == [("flow.yaml", 11, 16, "unknown-content-ref")]
    assert run.json()["warning_count"] == 1


def test_validate_start_flow_target_in_other_file_found(cli: Cli, write: Write) -> None:
    run = cli("validate", "-o", "json", write("a.yaml", STARTS_FLOW), write("b.yaml", OTHER_FLOW))
    assert run.json()["diagnostics"] == []


def test_validate_start_flow_target_not_given_warns(cli: Cli, write: Write) -> None:
    write("b.yaml", OTHER_FLOW)
    run = cli("validate", "-o", "json", write("a.yaml", STARTS_FLOW))
    assert diagnostics(run) == [("a.yaml", 11, 13, "unknown-flow-ref")]


def test_validate_missing_key_points_at_list_item(cli: Cli, write: Write) -> None:
    text = VALID + "    - id: tag-it\n      type: add_tag\n"
    (diag,) = cli("validate", "-o", "json", write("m.yaml", text)).json()["diagnostics"]
    assert (diag["line"], diag["column"], diag["pointer"]) == (12, 7, "/spec/steps/1")
    assert "missing required key 'tag'" in diag["message"]


def test_validate_missing_key_points_at_mapping_key(cli: Cli, write: Write) -> None:
    text = VALID.replace("metadata:\n  name: tiny\n", "metadata:\n  title: Tiny\n")
    (diag,) = cli("validate", "-o", "json", write("m.yaml", text)).json()["diagnostics"]
    assert (diag["line"], diag["column"], diag["pointer"]) == (3, 1, "/metadata")
    assert diag["message"] == "missing required key 'name' in metadata"


# --- output formats ----------------------------------------------------------------------


def test_validate_json_keys_exactly_as_spec(cli: Cli, write: Write) -> None:
    data = cli("validate", "-o", "json", write("w.yaml", WARNS), write("e.yaml", FLOW)).json()
    assert set(data) == {"valid", "files", "error_count", "warning_count", "diagnostics"}
    assert (data["valid"], data["files"], data["error_count"], data["warning_count"]) == (
        False,
        2,
        1,
        1,
    )
    for diag in data["diagnostics"]:
        assert set(diag) == {"file", "line", "column", "severity", "rule", "message", "pointer"}
    assert [d["severity"] for d in data["diagnostics"]] == ["error", "warning"]


def test_validate_github_error_and_warning_lines(cli: Cli, write: Write) -> None:
    error, warning = write("e.yaml", FLOW), write("w.yaml", WARNS)
    run = cli("validate", "-o", "github", error, warning)
    assert run.code == 1
    lines = run.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"::error file={error},line=11,col=7,title=schema::unknown key")
    assert lines[1].startswith(
        f"::warning file={warning},line=13,col=7,title=unreachable-step::step 'lost'"
    )


def test_validate_github_escapes_property_values(cli: Cli, write: Write) -> None:
    path = write("odd,name.yaml", FLOW)
    (line,) = cli("validate", "-o", "github", path).out.splitlines()
    assert line.startswith(f"::error file={str(path).replace(',', '%2C')},line=11,col=7,")


def test_validate_sarif_rules_levels_and_results(cli: Cli, write: Write) -> None:
    run = cli("validate", "-o", "sarif", write("e.yaml", FLOW), write("w.yaml", WARNS))
    assert run.code == 1
    sarif = json.loads(run.out)
    assert sarif["version"] == "2.1.0"
    (sarif_run,) = sarif["runs"]
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    rules = sarif_run["tool"]["driver"]["rules"]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels["schema"] == "error"
    assert levels["unreachable-step"] == "warning"
    assert levels["unknown-content-ref"] == "warning"
    assert len(rules) == len(levels)
    results = sarif_run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("schema", "error"),
        ("unreachable-step", "warning"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 11, "startColumn": 7}
    uri = results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("w.yaml")


def test_validate_sarif_valid_has_no_results(cli: Cli, write: Write) -> None:
    run = cli("validate", "-o", "sarif", write("ok.yaml", VALID))
    assert run.code == 0
    assert json.loads(run.out)["runs"][0]["results"] == []


def test_validate_text_summary_counts(cli: Cli, write: Write) -> None:
    run = cli("validate", write("e.yaml", FLOW), write("w.yaml", WARNS))
    assert run.out.splitlines()[-1] == "1 error, 1 warning in 2 files"


# --- fail-on and suppression -------------------------------------------------------------


def test_validate_warning_only_default_exit_zero(cli: Cli, write: Write) -> None:
    run = cli("validate", write("w.yaml", WARNS))
    assert run.code == 0
    assert "warning: step 'lost' is never reached" in run.out


def test_validate_fail_on_warning_exit_one(cli: Cli, write: Write) -> None:
    assert cli("validate", "--fail-on", "warning", write("w.yaml", WARNS)).code == 1


def test_validate_fail_on_error_with_warning_exit_zero(cli: Cli, write: Write) -> None:
    assert cli("validate", "--fail-on", "error", write("w.yaml", WARNS)).code == 0


def test_validate_suppression_on_same_line(cli: Cli, write: Write) -> None:
    text = FLOW.replace("duraton: 2d", "duraton: 2d  # flowctl: disable=schema")
    run = cli("validate", "-o", "json", write("s.yaml", text))
    assert run.code == 0
    assert run.json()["diagnostics"] == []


def test_validate_suppression_with_a_reason_after_the_rule(cli: Cli, write: Write) -> None:
    text = FLOW.replace("duraton: 2d", "duraton: 2d  # flowctl: disable=schema -- renamed later")
    assert cli("validate", write("s.yaml", text)).code == 0


def test_validate_sarif_uri_is_a_uri_reference(cli: Cli, write: Write) -> None:
    run = cli("validate", "-o", "sarif", write("my flow#1.yaml", FLOW))
    (result, *_) = json.loads(run.out)["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("/my%20flow%231.yaml")


def test_validate_suppression_on_line_above(cli: Cli, write: Write) -> None:
    text = FLOW.replace("      duraton", "      # flowctl: disable=template,schema\n      duraton")
    run = cli("validate", "-o", "json", write("s.yaml", text))
    assert run.code == 0


def test_validate_suppression_two_lines_above_ignored(cli: Cli, write: Write) -> None:
    text = FLOW.replace("      type: delay", "      # flowctl: disable=schema\n      type: delay")
    run = cli("validate", "-o", "json", write("s.yaml", text))
    assert run.code == 1
    assert diagnostics(run) == [("s.yaml", 12, 7, "schema")]


def test_validate_suppression_other_rule_ignored(cli: Cli, write: Write) -> None:
    text = FLOW.replace("duraton: 2d", "duraton: 2d  # flowctl: disable=template")
    assert cli("validate", write("s.yaml", text)).code == 1


def test_validate_suppression_of_warning(cli: Cli, write: Write) -> None:
    directive = "    # flowctl: disable=unreachable-step\n"
    text = WARNS.replace("    - {id: lost", directive + "    - {id: lost")
    run = cli("validate", "--fail-on", "warning", "-o", "json", write("s.yaml", text))
    assert run.code == 0


# --- stdin and alias --------------------------------------------------------------------


def test_validate_stdin_with_filename(cli: Cli) -> None:
    run = cli("validate", "-o", "json", "--stdin-filename", "flows/x.yaml", "-", stdin=FLOW)
    assert run.code == 1
    (diag,) = run.json()["diagnostics"]
    assert (diag["file"], diag["line"], diag["column"]) == ("flows/x.yaml", 11, 7)


def test_validate_stdin_valid_exit_zero(cli: Cli) -> None:
    run = cli("validate", "-", stdin=VALID)
    assert run.code == 0


def test_validate_stdin_sees_files_given_with_it(cli: Cli, write: Write) -> None:
    content = write("mail.yaml", MAILING)
    run = cli("validate", "--fail-on", "warning", "-", content, stdin=USES_MAILING)
    assert run.code == 0, run.out


def test_validate_stdin_suppression_applies(cli: Cli) -> None:
    text = FLOW.replace("duraton: 2d", "duraton: 2d  # flowctl: disable=schema")
    assert cli("validate", "--stdin-filename", "s.yaml", "-", stdin=text).code == 0


def test_lint_alias_same_as_validate(cli: Cli, write: Write) -> None:
    path = write("tiny.yaml", FLOW)
    assert cli("lint", "-o", "json", path).json() == cli("validate", "-o", "json", path).json()
    assert cli("lint", path).code == 1


REFERRING = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: refers}
spec:
  triggers: [{type: form_submitted, form: x}]
  steps:
    - {id: m, type: send_email, mailing: welcome}
"""
WELCOME = """\
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: welcome}
spec: {from: "A <a@example.com>", subject: Hi, text: Hello}
"""


@pytest.mark.parametrize("where", ["after", "before"])
def test_validate_finds_references_in_the_store_named(
    cli: Cli, write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)
    db = tmp_path / "store.db"
    assert cli("--store", db, "apply", write("welcome.yaml", WELCOME)).code == 0
    flow = write("refers.yaml", REFERRING)
    alone = cli("validate", flow, "--fail-on", "warning", "-o", "json")
    assert alone.code == 1
    assert [d["rule"] for d in alone.json()["diagnostics"]] == ["unknown-content-ref"]
    if where == "after":
        run = cli("validate", flow, "--store", db, "--fail-on", "warning")
    else:
        run = cli("--store", db, "validate", flow, "--fail-on", "warning")
    assert (run.code, run.out.strip()) == (0, "1 file valid")
    monkeypatch.setenv("FLOWCTL_STORE", "postgresql://nowhere.invalid/x")  # not read
    assert cli("validate", flow).code == 0
