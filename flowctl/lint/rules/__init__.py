"""The lint rules, one module each, registered here explicitly.

Every rule module has ``ID``, ``LEVEL``, ``KINDS`` (the document kinds it
checks) and a docstring with a failing and a passing example. Rules with
kinds have ``check(doc, ctx) -> Iterator[Finding]`` and run on documents
that pass the schema; ``yaml-syntax``, ``io-error`` and ``schema`` are the
stages before them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING

from flowctl.lint.rules import (
    duplicate_name,
    duplicate_step_id,
    invalid_timezone,
    invalid_value,
    io_error,
    loop_without_wait,
    schema,
    send_window,
    split_weights,
    template,
    unknown_content_ref,
    unknown_flow_ref,
    unknown_step_ref,
    unreachable_step,
    yaml_syntax,
    zero_duration,
)

if TYPE_CHECKING:
    from flowctl.lint.context import Context
    from flowctl.lint.problem import Finding
    from flowctl.load import Document

    Check = Callable[[Document, Context], Iterator[Finding]]

REGISTRY: dict[str, ModuleType] = {
    module.ID: module
    for module in (
        yaml_syntax,
        io_error,
        schema,
        duplicate_name,
        duplicate_step_id,
        unknown_step_ref,
        loop_without_wait,
        split_weights,
        invalid_timezone,
        zero_duration,
        invalid_value,
        send_window,
        unreachable_step,
        unknown_content_ref,
        unknown_flow_ref,
        template,
    )
}

SEMANTIC: tuple[ModuleType, ...] = tuple(m for m in REGISTRY.values() if m.KINDS)
"""Rules that run on schema-valid documents, in registry order."""


def summary(rule_id: str) -> str:
    """The first line of a rule's documentation."""
    doc = REGISTRY[rule_id].__doc__ or rule_id
    return doc.strip().splitlines()[0].split(": ", 1)[-1]
