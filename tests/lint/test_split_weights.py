"""split-weights: split weights that do not sum to 100, or a variant name used twice."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]

SPLIT = """\
  steps:
    - id: subject-test
      type: split
      variants:
        - {name: a, weight: 50, steps: [{id: tag-a, type: add_tag, tag: a}]}
        - {name: b, weight: 40, steps: [{id: tag-b, type: add_tag, tag: b}]}
"""


def test_split_weights_not_100_points_at_variants(lint: Lint) -> None:
    (problem,) = lint(flow(SPLIT))
    assert (problem.rule, problem.level) == ("split-weights", "error")
    assert problem.pointer == "/spec/steps/0/variants"
    assert (problem.line, problem.column) == (11, 7)
    assert problem.message == "split weights sum to 90 (50 + 40); they must sum to 100"


def test_split_weights_duplicate_variant_name_fails(lint: Lint) -> None:
    (problem,) = lint(flow(SPLIT.replace("weight: 40", "weight: 50").replace("name: b", "name: a")))
    assert problem.rule == "split-weights"
    assert problem.pointer == "/spec/steps/0/variants/1/name"
    assert (problem.line, problem.column) == (13, 18)
    assert "variant name 'a' is used twice" in problem.message


def test_split_weights_sum_100_passes(lint: Lint) -> None:
    assert lint(flow(SPLIT.replace("weight: 40", "weight: 50"))) == []


def test_split_weights_written_with_a_decimal_point_are_whole_numbers(lint: Lint) -> None:
    (problem,) = lint(flow(SPLIT.replace("weight: 50", "weight: 50.0")))
    assert problem.message == "split weights sum to 90 (50 + 40); they must sum to 100"
    assert lint(flow(SPLIT.replace("weight: 50", "weight: 60.0"))) == []
