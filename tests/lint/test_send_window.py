"""send-window: a send_window whose `to` is not after its `from`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]


@pytest.mark.parametrize(("start", "end"), [("17:00", "09:00"), ("09:00", "09:00")])
def test_send_window_to_not_after_from_fails(lint: Lint, start: str, end: str) -> None:
    text = flow(
        f'  send_window:\n    from: "{start}"\n    to: "{end}"\n  steps: [{{id: a, type: end}}]\n'
    )
    (problem,) = lint(text)
    assert (problem.rule, problem.level) == ("send-window", "error")
    assert (problem.line, problem.column, problem.pointer) == (10, 9, "/spec/send_window/to")
    assert f"send_window closes at {end}, not after it opens at {start}" in problem.message


def test_send_window_from_before_to_passes(lint: Lint) -> None:
    text = flow(
        '  send_window: {days: [mon, fri], from: "09:00", to: "17:00"}\n'
        "  steps: [{id: a, type: end}]\n"
    )
    assert lint(text) == []
