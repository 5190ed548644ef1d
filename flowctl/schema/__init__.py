"""The JSON Schema of the flow format, as shipped in ``schemas/flow.schema.json``.

The package carries the same bytes as the repository's ``schemas/`` file (a
test proves it): editors, CI tools and flowctl all read one schema.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

KINDS = ("Flow", "Mailing", "Sms", "FlowTest")
SCHEMA_FILE = "flow.schema.json"


def schema_text() -> str:
    """The schema file's exact text."""
    return resources.files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def schema() -> dict[str, Any]:
    """The whole schema (all kinds, dispatched on ``kind``)."""
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


def schema_for(kind: str) -> dict[str, Any]:
    """A standalone schema that accepts only documents of one kind."""
    whole = schema()
    return {
        "$schema": whole["$schema"],
        "$id": whole["$id"].replace("flow.schema.json", f"{kind.lower()}.schema.json"),
        "title": f"flowctl {kind}",
        "description": whole["$defs"][kind]["description"],
        "$ref": f"#/$defs/{kind}",
        "$defs": whole["$defs"],
    }


def subschema(path: list[str | int]) -> Any:
    """The part of the schema at a path of keys (as validation errors give it)."""
    node: Any = schema()
    for part in path:
        node = node[part]
    return node


@cache
def validator() -> Any:
    """The compiled validator (jsonschema-rs, draft 2020-12)."""
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(schema())
