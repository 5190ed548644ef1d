"""unreachable-step: steps after an end or goto in the same list."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import flow, only

Lint = Callable[..., list[Problem]]


def test_unreachable_step_after_end_warns_once(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - {id: done, type: end}\n"
        "    - {id: forgotten, type: add_tag, tag: a}\n"
        "    - {id: also-forgotten, type: add_tag, tag: b}\n"
    )
    (problem,) = lint(text)
    assert (problem.rule, problem.level) == ("unreachable-step", "warning")
    assert (problem.line, problem.column, problem.pointer) == (10, 7, "/spec/steps/1")
    assert "step 'forgotten' is never reached: it follows 'done' (end)" in problem.message


def test_unreachable_step_after_goto_in_branch_warns(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - {id: first, type: delay, duration: 1d}\n"
        "    - id: check\n"
        "      type: decision\n"
        "      if: {tag: vip}\n"
        "      then:\n"
        "        - {id: back, type: goto, step: first}\n"
        "        - {id: lost, type: add_tag, tag: a}\n"
    )
    (problem,) = only(lint(text), "unreachable-step")
    assert problem.pointer == "/spec/steps/1/then/1"
    assert (problem.line, problem.column) == (15, 11)
    assert "'back' (goto)" in problem.message


def test_unreachable_step_goto_target_after_end_passes(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - {id: jump, type: goto, step: later}\n"
        "    - {id: skipped, type: end}\n"
        "    - {id: later, type: add_tag, tag: a}\n"
    )
    # 'skipped' follows the goto and is reported; 'later' is the goto's target.
    assert [p.pointer for p in only(lint(text), "unreachable-step")] == ["/spec/steps/1"]


def test_unreachable_step_end_last_passes(lint: Lint) -> None:
    text = flow(
        "  steps:\n    - {id: thanks, type: add_tag, tag: a}\n    - {id: done, type: end}\n"
    )
    assert lint(text) == []
