"""zero-duration: a wait of zero (delay.duration, wait_until.timeout)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]


@pytest.mark.parametrize("zero", ["0d", "0m", "0h0m", "PT0S", "P0D"])
def test_zero_duration_delay_fails(lint: Lint, zero: str) -> None:
    steps = f"  steps:\n    - id: pause\n      type: delay\n      duration: {zero}\n"
    (problem,) = lint(flow(steps))
    assert (problem.rule, problem.level) == ("zero-duration", "error")
    assert (problem.line, problem.column, problem.pointer) == (11, 17, "/spec/steps/0/duration")
    assert problem.message == f"'duration' is zero ({zero}); a wait must last longer than 0"


def test_zero_duration_wait_until_timeout_fails(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - id: paid\n"
        "      type: wait_until\n"
        "      condition: {event: sale_created}\n"
        "      timeout: 0d\n"
    )
    (problem,) = lint(text)
    assert problem.rule == "zero-duration"
    assert (problem.line, problem.pointer) == (12, "/spec/steps/0/timeout")


def test_zero_duration_in_branch_fails(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - id: check\n"
        "      type: decision\n"
        "      if: {tag: vip}\n"
        "      then: [{id: tag, type: add_tag, tag: vip}]\n"
        "      else: [{id: pause, type: delay, duration: 0m}]\n"
    )
    (problem,) = lint(text)
    assert problem.pointer == "/spec/steps/0/else/0/duration"


def test_zero_duration_positive_wait_passes(lint: Lint) -> None:
    assert lint(flow("  steps:\n    - {id: pause, type: delay, duration: 1d}\n")) == []
