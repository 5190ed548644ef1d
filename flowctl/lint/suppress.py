"""Inline suppression: ``# flowctl: disable=rule-id[,rule-id]`` on the line or the line above."""

from __future__ import annotations

import re

from flowctl.lint.problem import Problem

_DIRECTIVE = re.compile(r"#\s*flowctl:\s*disable=([\w-]+(?:\s*,\s*[\w-]+)*)")
"""The rule ids, separated by commas; anything after them (a reason) is not read."""


def suppressions(text: str) -> dict[int, set[str]]:
    """Line number (1-based) → rule ids disabled by a comment on that line."""
    found: dict[int, set[str]] = {}
    if "flowctl:" not in text:
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.search(line)
        if match:
            found[number] = {r.strip() for r in match.group(1).split(",") if r.strip()}
    return found


def is_suppressed(problem: Problem, disabled: dict[int, set[str]]) -> bool:
    """Whether a comment on the problem's line, or the line above, disables its rule."""
    for line in (problem.line, problem.line - 1):
        rules = disabled.get(line, set())
        if problem.rule in rules or "all" in rules:
            return True
    return False
