"""Walking a Flow document's steps and conditions, with JSON pointers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

BRANCH_KEYS = ("then", "else", "on_timeout")
WAITING_TYPES = ("delay", "wait_until")


def step_lists(step: dict[str, Any], pointer: str) -> Iterator[tuple[list[Any], str]]:
    """The step lists nested in one step (branches, on_timeout, split variants)."""
    for key in BRANCH_KEYS:
        if isinstance(step.get(key), list):
            yield step[key], f"{pointer}/{key}"
    variants = step.get("variants")
    if isinstance(variants, list):
        for index, variant in enumerate(variants):
            if isinstance(variant, dict) and isinstance(variant.get("steps"), list):
                yield variant["steps"], f"{pointer}/variants/{index}/steps"


def iter_steps(steps: Any, pointer: str = "/spec/steps") -> Iterator[tuple[dict[str, Any], str]]:
    """Every step mapping in a step list and its branches, depth first, in order."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here = f"{pointer}/{index}"
        yield step, here
        for nested, nested_pointer in step_lists(step, here):
            yield from iter_steps(nested, nested_pointer)


def iter_step_lists(steps: Any, pointer: str = "/spec/steps") -> Iterator[tuple[list[Any], str]]:
    """Every step list of a flow (the top level and each branch)."""
    if not isinstance(steps, list):
        return
    yield steps, pointer
    for step, here in iter_steps(steps, pointer):
        yield from (pair for pair in step_lists(step, here))


def flow_steps(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every step of a Flow's spec."""
    return iter_steps(spec.get("steps"))
