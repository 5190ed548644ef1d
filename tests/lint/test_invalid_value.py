"""invalid-value: right-shaped values the engine cannot use (a bad regex, an endless wait)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]


def test_invalid_value_pattern_that_is_not_a_regular_expression_fails(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - id: gmail\n"
        "      type: decision\n"
        '      if: {all: [{tag: x}, {field: contact.email, matches: "(["}]}\n'
        "      then: [{id: t, type: add_tag, tag: gmail}]\n"
    )
    (problem,) = lint(text)
    assert (problem.rule, problem.level) == ("invalid-value", "error")
    assert problem.pointer == "/spec/steps/0/if/all/1/matches"
    assert "is not a regular expression" in problem.message


@pytest.mark.parametrize("duration", ["36526d", "99999999999999999999d", "9999999w", "P40000D"])
def test_invalid_value_wait_longer_than_100_years_fails(lint: Lint, duration: str) -> None:
    (problem,) = lint(flow(f"  steps:\n    - {{id: pause, type: delay, duration: {duration}}}\n"))
    assert (problem.rule, problem.pointer) == ("invalid-value", "/spec/steps/0/duration")
    assert problem.message == f"'{duration}' is longer than 100 years; no flow waits that long"


@pytest.mark.parametrize("duration", ["P", "PT", "P1DT"])
def test_an_empty_iso_duration_is_a_schema_error_only(lint: Lint, duration: str) -> None:
    (problem,) = lint(flow(f"  steps:\n    - {{id: pause, type: delay, duration: {duration}}}\n"))
    assert problem.rule == "schema"


def test_a_flow_without_steps_is_a_schema_error(lint: Lint) -> None:
    (problem,) = lint(flow("  steps: []\n"))
    assert (problem.rule, problem.pointer) == ("schema", "/spec/steps")


def test_invalid_value_good_patterns_and_waits_pass(lint: Lint) -> None:
    text = flow(
        "  reentry: after_exit\n"
        "  reentry_after: 90d\n"
        "  steps:\n"
        "    - {id: pause, type: delay, duration: 36525d}\n"
        "    - id: gmail\n"
        "      type: decision\n"
        '      if: {field: contact.email, matches: "@gmail\\\\.com$"}\n'
        "      then: [{id: t, type: add_tag, tag: gmail}]\n"
    )
    assert lint(text) == []


def test_invalid_value_leaves_the_users_own_data_alone(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - id: mark\n"
        "      type: update_contact\n"
        "      set: {due: 99999999d, offset: '(['}\n"
    )
    assert lint(text) == []


@pytest.mark.parametrize("reentry", ["", "  reentry: never\n"])
def test_invalid_value_reentry_after_without_after_exit_fails(lint: Lint, reentry: str) -> None:
    text = flow(f"{reentry}  reentry_after: 30d\n  steps:\n    - {{id: done, type: end}}\n")
    (problem,) = lint(text)
    assert (problem.rule, problem.pointer) == ("invalid-value", "/spec/reentry_after")
    assert "reentry: after_exit" in problem.message


@pytest.mark.parametrize("value", ["2026-13-45", "2026-02-30T10:00:00+01:00"])
def test_invalid_value_date_that_does_not_exist_fails_where_it_is(lint: Lint, value: str) -> None:
    text = flow(
        "  steps:\n"
        "    - id: old\n"
        "      type: decision\n"
        "      if:\n"
        "        field: contact.signup\n"
        f"        after: {value}\n"  # unquoted: YAML would read it as a date
        "      then: [{id: t, type: add_tag, tag: old}]\n"
        "    - id: bad\n"
        "      type: decision\n"
        "      if: {field: contact.x, in: 5}\n"
        "      then: [{id: u, type: end}]\n"
    )
    problems = {p.rule: p for p in lint(text)}
    assert problems["invalid-value"].message == (
        f"'{value}' in 'after' is not a date and time that exists"
    )
    assert problems["invalid-value"].line == 13
    assert problems["schema"].line == 17  # the other problems keep their places
