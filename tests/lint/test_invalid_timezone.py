"""invalid-timezone: a time zone name that is not IANA."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]


def test_invalid_timezone_typo_suggests_zone(lint: Lint) -> None:
    (problem,) = lint(flow("  timezone: Europe/Olso\n  steps: [{id: a, type: end}]\n"))
    assert (problem.rule, problem.level) == ("invalid-timezone", "error")
    assert (problem.line, problem.column, problem.pointer) == (8, 13, "/spec/timezone")
    assert problem.message == "'Europe/Olso' is not an IANA time zone; did you mean 'Europe/Oslo'?"


def test_invalid_timezone_nonsense_fails(lint: Lint) -> None:
    (problem,) = lint(flow("  timezone: Mars/Olympus_Mons\n  steps: [{id: a, type: end}]\n"))
    assert problem.rule == "invalid-timezone"
    assert "'Mars/Olympus_Mons' is not an IANA time zone" in problem.message


@pytest.mark.parametrize("zone", ["Europe/Oslo", "UTC", "America/Argentina/Buenos_Aires"])
def test_invalid_timezone_iana_zone_passes(lint: Lint, zone: str) -> None:
    assert lint(flow(f"  timezone: {zone}\n  steps: [{{id: a, type: end}}]\n")) == []
