"""unknown-step-ref: a goto to a step that does not exist."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import flow, only

Lint = Callable[..., list[Problem]]

STEPS = """\
  steps:
    - {id: remind, type: add_tag, tag: reminded}
    - {id: pause, type: delay, duration: 3d}
    - id: again
      type: goto
      step: {target}
"""


def test_unknown_step_ref_typo_suggests_step(lint: Lint) -> None:
    (problem,) = lint(flow(STEPS.replace("{target}", "remnid")))
    assert (problem.rule, problem.level) == ("unknown-step-ref", "error")
    assert problem.pointer == "/spec/steps/2/step"
    assert (problem.line, problem.column) == (13, 13)
    assert (
        problem.message
    ) == "goto names step 'remnid', which does not exist (did you mean 'remind'?)"


def test_unknown_step_ref_target_in_branch_passes(lint: Lint) -> None:
    text = flow(STEPS.replace("{target}", "inner")).replace(
        "    - {id: pause",
        "    - id: gate\n      type: decision\n      if: {tag: x}\n"
        "      then: [{id: inner, type: add_tag, tag: y}]\n    - {id: pause",
    )
    assert only(lint(text), "unknown-step-ref") == []


def test_unknown_step_ref_existing_step_passes(lint: Lint) -> None:
    assert lint(flow(STEPS.replace("{target}", "remind"))) == []
