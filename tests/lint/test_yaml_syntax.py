"""yaml-syntax: YAML that does not parse."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import flow, only

Lint = Callable[..., list[Problem]]


def test_yaml_syntax_bad_indentation_points_at_token(lint: Lint) -> None:
    text = flow("  steps:\n    - id: a\n     type: end\n")
    (problem,) = lint(text)
    assert (problem.rule, problem.level) == ("yaml-syntax", "error")
    assert (problem.line, problem.column) == (10, 6)
    assert problem.pointer == ""
    assert problem.message.startswith("invalid YAML:")


def test_yaml_syntax_unclosed_flow_mapping_fails(lint: Lint) -> None:
    (problem,) = lint(flow("  steps: [{id: a, type: end}\n"))
    assert problem.rule == "yaml-syntax"
    assert problem.line >= 8


def test_yaml_syntax_duplicate_key_names_key_and_first_line(lint: Lint) -> None:
    (problem,) = lint(flow("  steps:\n    - {id: a, type: end}\n  steps: []\n"))
    assert problem.rule == "yaml-syntax"
    assert (problem.line, problem.column) == (10, 3)
    assert '"steps"' in problem.message
    assert "already defined on line 8" in problem.message


def test_yaml_syntax_valid_flow_passes(lint: Lint) -> None:
    assert lint(flow("  steps:\n    - id: a\n      type: end\n")) == []


def test_yaml_syntax_documents_before_error_still_checked(lint: Lint) -> None:
    text = flow("  steps:\n    - {id: a, type: end}\n  bogus: 1\n---\nkey: [unclosed\n")
    problems = lint(text)
    assert [p.rule for p in problems] == ["schema", "yaml-syntax"]
    assert only(problems, "schema")[0].pointer == "/spec/bogus"
