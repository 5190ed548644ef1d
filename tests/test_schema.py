"""The JSON Schema file: valid against the metaschema, shipped identically, printed by the CLI."""

from __future__ import annotations

import json

import jsonschema
import pytest

from flowctl import schema as flow_schema
from tests.conftest import REPO


def test_schema_file_valid_against_draft_2020_12_metaschema() -> None:
    data = json.loads((REPO / "schemas" / "flow.schema.json").read_text())
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(data)


def test_schema_package_copy_identical_bytes() -> None:
    shipped = flow_schema.schema_text().encode("utf-8")
    assert shipped == (REPO / "schemas" / "flow.schema.json").read_bytes()


def test_schema_every_property_has_description() -> None:
    missing = []

    def visit(node: object, path: str) -> None:
        if path.endswith("/if"):  # dispatch tests, not properties a user writes
            return
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if isinstance(sub, dict) and "description" not in sub:
                    missing.append(f"{path}/properties/{name}")
            for key, value in node.items():
                visit(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{path}/{index}")

    visit(flow_schema.schema(), "")
    assert missing == []


def test_schema_objects_closed_except_open_maps() -> None:
    open_objects = []

    def visit(node: object, path: str) -> None:
        if path.endswith("/if"):
            return
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                open_objects.append(path)
            for key, value in node.items():
                visit(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{path}/{index}")

    visit(flow_schema.schema(), "")
    # Dispatchers (closed by their if/then branches) and contacts (custom fields) stay open.
    allowed = {
        "",
        "/$defs/condition",
        "/$defs/trigger",
        "/$defs/step",
        "/$defs/contact",
        "/$defs/FlowTest/properties/spec/properties/expect/properties/effects/items",
    }
    assert set(open_objects) <= allowed


def test_schema_cli_prints_file_bytes(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("schema")
    assert run.code == 0
    assert run.out == (REPO / "schemas" / "flow.schema.json").read_text()


@pytest.mark.parametrize("kind", ["Flow", "Mailing", "Sms", "FlowTest"])
def test_schema_cli_kind_is_standalone_schema(cli, kind: str) -> None:  # type: ignore[no-untyped-def]
    run = cli("schema", "--kind", kind)
    assert run.code == 0
    data = run.json()
    jsonschema.Draft202012Validator.check_schema(data)
    assert data["$ref"] == f"#/$defs/{kind}"
    other = "Sms" if kind != "Sms" else "Mailing"
    validator = jsonschema.Draft202012Validator(data)
    assert not validator.is_valid(
        {"apiVersion": "flowctl/v1", "kind": other, "metadata": {"name": "x"}, "spec": {}}
    )
