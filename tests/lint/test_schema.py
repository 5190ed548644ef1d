"""schema: anything the JSON Schema rejects, located and explained."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]


def test_schema_unknown_key_points_at_key_with_suggestion(lint: Lint) -> None:
    (problem,) = lint(flow("  steps:\n    - id: wait\n      type: delay\n      duraton: 2d\n"))
    assert (problem.rule, problem.level) == ("schema", "error")
    assert (problem.line, problem.column) == (11, 7)
    assert problem.pointer == "/spec/steps/0/duraton"
    assert "unknown key 'duraton' in a delay step" in problem.message
    assert "did you mean 'duration'?" in problem.message


def test_schema_bad_step_type_suggests_closest(lint: Lint) -> None:
    (problem,) = lint(flow("  steps:\n    - id: mail\n      type: send_emial\n"))
    assert problem.rule == "schema"
    assert (problem.line, problem.column, problem.pointer) == (10, 13, "/spec/steps/0/type")
    assert "'send_emial' is not a valid step type" in problem.message
    assert "did you mean 'send_email'?" in problem.message


def test_schema_missing_key_in_list_item_points_at_item(lint: Lint) -> None:
    (problem,) = lint(flow("  steps:\n    - id: tagging\n      type: add_tag\n"))
    assert problem.rule == "schema"
    assert problem.pointer == "/spec/steps/0"
    assert (problem.line, problem.column) == (9, 7)
    assert "missing required key 'tag' in an add_tag step" in problem.message


def test_schema_missing_key_in_mapping_points_at_its_key(lint: Lint) -> None:
    text = flow("  steps: [{id: a, type: end}]\n  success:\n    on_success: stop\n")
    (problem,) = lint(text)
    assert problem.pointer == "/spec/success"
    assert (problem.line, problem.column) == (9, 3)
    assert "missing required key 'when'" in problem.message


def test_schema_missing_spec_keys_name_the_spec(lint: Lint) -> None:
    text = "apiVersion: flowctl/v1\nkind: Flow\nmetadata:\n  name: demo\nspec: {}\n"
    problems = lint(text)
    assert {p.message for p in problems} == {
        "missing required key 'steps' in a Flow's spec",
        "missing required key 'triggers' in a Flow's spec",
    }
    assert {(p.line, p.column, p.pointer) for p in problems} == {(5, 1, "/spec")}


def test_schema_bare_number_duration_explains_units(lint: Lint) -> None:
    (problem,) = lint(flow("  steps:\n    - {id: wait, type: delay, duration: 3}\n"))
    assert problem.pointer == "/spec/steps/0/duration"
    assert (problem.line, problem.column) == (9, 41)
    assert "must be text, not a number" in problem.message
    assert "'3d'" in problem.message


def test_schema_bad_name_pattern_explains_names(lint: Lint) -> None:
    text = flow("  steps: [{id: a, type: end}]\n").replace("name: demo", "name: Demo_Flow")
    (problem,) = lint(text)
    assert (problem.line, problem.column, problem.pointer) == (4, 9, "/metadata/name")
    assert "'Demo_Flow' in 'name' is not a valid name" in problem.message


@pytest.mark.parametrize("path", ["participant.foo", "email", "contacts.email"])
def test_schema_field_path_names_the_paths_there_are(lint: Lint, path: str) -> None:
    text = flow(f"  exit_when: {{field: {path}, exists: true}}\n  steps: [{{id: a, type: end}}]\n")
    (problem,) = lint(text)
    assert (problem.rule, problem.pointer) == ("schema", "/spec/exit_when/field")
    assert f"'{path}' in 'field' is not a field path" in problem.message
    assert "participant.step_count" in problem.message


def test_schema_event_test_takes_tag_campaign_selection_project_and_field(lint: Lint) -> None:
    text = flow(
        "  success:\n"
        "    when:\n"
        "      any:\n"
        "        - {event: tag_added, tag: customer}\n"
        "        - {event: campaign_completed, campaign: c1}\n"
        "        - {event: selection_added, selection: hot-leads, within: 7d}\n"
        "        - {event: project_added, project: launch}\n"
        "        - {event: contact_updated, field: phone}\n"
        "  steps: [{id: a, type: end}]\n"
    )
    assert lint(text) == []


def test_schema_document_that_is_a_list_fails(lint: Lint) -> None:
    (problem,) = lint("- a\n- b\n")
    assert (problem.rule, problem.line, problem.column, problem.pointer) == ("schema", 1, 1, "")
    assert "expected a mapping with apiVersion, kind, metadata and spec, found a list" in (
        problem.message
    )


def test_schema_unknown_kind_lists_kinds(lint: Lint) -> None:
    (problem,) = lint(flow("  steps: [{id: a, type: end}]\n").replace("kind: Flow", "kind: Flwo"))
    assert problem.pointer == "/kind"
    assert problem.line == 2
    assert "did you mean 'Flow'?" in problem.message


def test_schema_valid_flow_and_content_pass(lint: Lint) -> None:
    mailing = (
        "apiVersion: flowctl/v1\nkind: Mailing\nmetadata: {name: welcome}\n"
        "spec:\n  from: a@b.example\n  subject: Hi\n  text: Hello\n"
    )
    text = flow("  steps:\n    - {id: mail, type: send_email, mailing: welcome}\n")
    assert lint(text, mailing) == []


def test_schema_a_missing_key_is_reported_once(lint: Lint) -> None:
    text = "kind: Flow\nmetadata: {name: x}\nspec:\n  triggers: [{type: manual}]\n"
    text += "  steps: [{id: e, type: end}]\n"
    (problem,) = lint(text)
    assert (problem.rule, problem.line, problem.column) == ("schema", 1, 1)
    assert problem.message.startswith("missing required key 'apiVersion'")


def test_schema_a_misspelt_condition_key_is_named_where_it_is(lint: Lint) -> None:
    (problem,) = lint(flow("  filter: {tagg: x}\n  steps: [{id: e, type: end}]\n"))
    assert problem.message == "unknown key 'tagg' in a condition; did you mean 'tag'?"
    assert (problem.line, problem.column, problem.pointer) == (8, 12, "/spec/filter/tagg")


def test_schema_an_unknown_key_beside_a_known_one_is_the_one_reported(lint: Lint) -> None:
    (problem,) = lint(flow("  filter: {field: contact.x, zzz: 3}\n  steps: [{id: e, type: end}]\n"))
    assert problem.message.startswith("unknown key 'zzz' in a 'field' condition")
    assert problem.pointer == "/spec/filter/zzz"


def test_schema_value_matching_no_choice_says_what_the_choices_mean(lint: Lint) -> None:
    test = """\
apiVersion: flowctl/v1
kind: FlowTest
metadata: {name: t}
spec:
  flow: f.yaml
  contact: {email: a@example.com}
  events: [{type: tag_added, at: "+2x"}]
  expect: {status: completed}
"""
    (problem,) = lint(test)
    assert problem.pointer == "/spec/events/0/at"
    assert problem.message == (
        "'+2x' is not a valid 'at': an instant, or an offset from the test's start such as +2d."
    )


def test_schema_problem_in_a_mapping_merged_with_an_anchor_is_located(lint: Lint) -> None:
    steps = (
        "  steps:\n"
        "    - &base {id: a, type: delay, duration: 1d, tilte: x}\n"
        "    - <<: *base\n"
        "      id: b\n"
    )
    problems = lint(flow(steps))
    assert [(p.rule, p.line) for p in problems] == [("schema", 9), ("schema", 10)]
    assert all("unknown key 'tilte'" in p.message for p in problems)
