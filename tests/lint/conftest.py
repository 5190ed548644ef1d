"""Helpers for rule tests: lint YAML texts in memory, pick one rule's problems."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.lint import Problem, validate_sources
from flowctl.load import Source

HEAD = """\
apiVersion: flowctl/v1
kind: Flow
metadata:
  name: demo
spec:
  triggers:
    - type: manual
"""
"""A flow's first 7 lines; ``steps:`` written after it is line 8, its first item line 9."""


def flow(body: str) -> str:
    """A Flow document: :data:`HEAD` and then ``body`` (spec keys, indented by two)."""
    return HEAD + body


@pytest.fixture
def lint() -> Callable[..., list[Problem]]:
    """Validate texts together (``a.yaml``, ``b.yaml``, …) and return every problem."""

    def run(*texts: str) -> list[Problem]:
        sources = [Source(f"{chr(ord('a') + i)}.yaml", text) for i, text in enumerate(texts)]
        return validate_sources(sources).problems

    return run


def only(problems: list[Problem], rule: str) -> list[Problem]:
    """The problems of one rule."""
    return [p for p in problems if p.rule == rule]
