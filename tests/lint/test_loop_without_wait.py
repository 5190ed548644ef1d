"""loop-without-wait: a goto cycle with no delay or wait_until on it."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import flow, only

Lint = Callable[..., list[Problem]]


def test_loop_without_wait_direct_cycle_fails(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - {id: nudge, type: add_tag, tag: nudged}\n"
        "    - {id: again, type: goto, step: nudge}\n"
    )
    (problem,) = lint(text)
    assert (problem.rule, problem.level) == ("loop-without-wait", "error")
    assert problem.pointer == "/spec/steps/1/step"
    assert (problem.line, problem.column) == (10, 37)
    assert "loops back through nudge → again" in problem.message
    assert "add a delay" in problem.message


def test_loop_without_wait_cycle_through_branch_fails(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - {id: top, type: add_tag, tag: t}\n"
        "    - id: check\n"
        "      type: decision\n"
        "      if: {tag: vip}\n"
        "      then:\n"
        "        - {id: back, type: goto, step: top}\n"
    )
    (problem,) = lint(text)
    assert problem.rule == "loop-without-wait"
    assert problem.pointer == "/spec/steps/1/then/0/step"
    assert "top → check → back" in problem.message


def test_loop_without_wait_delay_in_loop_passes(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - {id: nudge, type: add_tag, tag: nudged}\n"
        "    - {id: wait-a-week, type: delay, duration: 7d}\n"
        "    - {id: again, type: goto, step: nudge}\n"
    )
    assert lint(text) == []


def test_loop_without_wait_forward_goto_passes(lint: Lint) -> None:
    text = flow("  steps:\n    - {id: skip, type: goto, step: last}\n    - {id: last, type: end}\n")
    assert only(lint(text), "loop-without-wait") == []
