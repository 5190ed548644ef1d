"""duplicate-step-id: a step id used twice in a flow."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]

STEPS = """\
  steps:
    - {id: hello, type: add_tag, tag: a}
    - id: check
      type: decision
      if: {tag: vip}
      then:
        - {id: hello, type: add_tag, tag: greeted}
"""


def test_duplicate_step_id_in_branch_points_at_second_id(lint: Lint) -> None:
    (problem,) = lint(flow(STEPS))
    assert (problem.rule, problem.level) == ("duplicate-step-id", "error")
    assert problem.pointer == "/spec/steps/1/then/0/id"
    assert (problem.line, problem.column) == (14, 16)
    assert "step id 'hello' is already used at spec.steps[0]" in problem.message


def test_duplicate_step_id_unique_ids_pass(lint: Lint) -> None:
    unique = STEPS.replace("{id: hello, type: add_tag, tag: greeted}", "{id: hi, type: end}")
    assert lint(flow(unique)) == []
