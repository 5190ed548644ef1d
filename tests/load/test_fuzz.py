"""Property tests: random and mutated YAML never raises, positions stay in the file.

About 3,300 cases in all; the whole file runs in well under a minute.
"""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from flowctl import schema as flow_schema
from flowctl.lint import Problem, Result, validate_sources
from flowctl.lint.rules import schema as schema_rule
from flowctl.load import Source, pointer_parts
from flowctl.load.documents import decode_source
from tests.conftest import FLOWS

EXAMPLES = {
    str(p.relative_to(FLOWS)): p.read_text(encoding="utf-8") for p in sorted(FLOWS.rglob("*.yaml"))
}
FLOW_EXAMPLES = {name: text for name, text in EXAMPLES.items() if "\nkind: Flow\n" in text}
SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
YAMLISH = st.text(
    alphabet=st.sampled_from(list(":-[]{}#&*!|>'\",?%@`~\t\r\n   abcxyz019.\\\x85\u2028é")),
    max_size=200,
)


def assert_sane(result: Result, text: str | None = None) -> None:
    """Positions are 1-based; with the text, the line is one of the file's lines."""
    for problem in result.problems:
        assert problem.line >= 1 and problem.column >= 1, problem
        assert problem.level in ("error", "warning")
        assert problem.message
        if text is not None:
            assert problem.line <= max(1, len(text.splitlines())), (problem, text)


def run(text: str, name: str = "fuzz.yaml") -> Result:
    return validate_sources([Source(name, text)])


# --- (a) random input ------------------------------------------------------------------------


@settings(max_examples=500, **SETTINGS)
@given(st.binary(max_size=300))
def test_fuzz_random_bytes_never_raise(raw: bytes) -> None:
    assert_sane(validate_sources([decode_source(raw, "fuzz.yaml")]))


@settings(max_examples=800, **SETTINGS)
@given(YAMLISH)
def test_fuzz_random_yamlish_text_never_raises(text: str) -> None:
    assert_sane(run(text))


@settings(max_examples=200, **SETTINGS)
@given(st.text(max_size=300))
def test_fuzz_random_unicode_text_never_raises(text: str) -> None:
    assert_sane(run(text))


# --- (b) mutations of the example flows --------------------------------------------------------


@st.composite
def mutated_example(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(EXAMPLES)))
    lines = EXAMPLES[name].split("\n")
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    op = draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "scalar", "key", "swap"]))
    if op == "delete":
        del lines[index]
    elif op == "duplicate":
        lines.insert(index, line)
    elif op == "indent":
        lines[index] = " " * draw(st.integers(1, 3)) + line
    elif op == "dedent":
        lines[index] = line[draw(st.integers(1, 4)) :]
    elif op == "scalar" and ":" in line:
        head = line.split(":", 1)[0]
        value = draw(
            st.sampled_from(
                [
                    "",
                    "1",
                    "-3",
                    "null",
                    "[]",
                    "{}",
                    "'x",
                    "*x",
                    "&y z",
                    "0d",
                    "true",
                    '"{{ x }"',
                    "!foo z",
                    "a: b",
                ]
            )
            | YAMLISH
        )
        lines[index] = f"{head}: {value}"
    elif op == "key":
        indent = " " * draw(st.integers(0, 8))
        key = draw(st.sampled_from(["id", "type", "steps", "then", "spec", "kind", "zzz", "if"]))
        value = draw(st.sampled_from(["x", "1", "[]", "{}", "end", "delay", ""]))
        lines.insert(index, f"{indent}{key}: {value}")
    elif op == "swap" and len(line) >= 2:
        at = draw(st.integers(0, len(line) - 2))
        lines[index] = line[:at] + line[at + 1] + line[at] + line[at + 2 :]
    return name, "\n".join(lines)


@settings(max_examples=600, **SETTINGS)
@given(mutated_example())
def test_fuzz_mutated_examples_positions_inside_file(case: tuple[str, str]) -> None:
    name, text = case
    result = run(text, name)
    assert_sane(result, text)
    assert result.failed("error") == (result.error_count > 0)


def test_fuzz_examples_unmutated_are_valid() -> None:
    sources = [Source(name, text) for name, text in EXAMPLES.items()]
    assert validate_sources(sources).problems == []


# --- (c) structured mutations of a valid flow ----------------------------------------------------

_YAML = YAML(typ="safe", pure=True)
_YAML.default_flow_style = False
BASE = {name: next(iter(_YAML.load_all(text))) for name, text in FLOW_EXAMPLES.items()}
PYTHON_VALIDATOR = Draft202012Validator(flow_schema.schema())
WRONG_VALUES = st.one_of(
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.text(alphabet="abcxyz-_09:", max_size=6),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["x", "id", "type"]), st.integers(0, 3), max_size=2),
)


def paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a node below the root."""
    found = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


@st.composite
def mutated_flow(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str | int, ...]]:
    data = copy.deepcopy(BASE[draw(st.sampled_from(sorted(BASE)))])
    path = draw(st.sampled_from(paths(data)))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    op = draw(st.sampled_from(["drop", "rename", "retype"]))
    if op == "drop":
        del parent[last]
    elif op == "rename" and isinstance(parent, dict):
        new = draw(st.sampled_from(["nmae", "tpye", "stpes", "x", "ID", "step"]))
        parent[new] = parent.pop(last)
        path = (*path[:-1], new)
    else:
        parent[last] = draw(WRONG_VALUES)
    return data, path


def dump(data: Any) -> str:
    out = io.StringIO()
    _YAML.dump(data, out)
    return out.getvalue()


def resolves(data: Any, pointer: str) -> bool:
    node = data
    for part in pointer_parts(pointer):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


@settings(max_examples=500, **SETTINGS)
@given(mutated_flow())
def test_fuzz_structured_mutation_schema_pointer_exists(
    case: tuple[dict[str, Any], tuple[str | int, ...]],
) -> None:
    data, path = case
    text = dump(data)
    result = run(text)
    assert_sane(result, text)
    schema_problems: list[Problem] = [p for p in result.problems if p.rule == "schema"]
    if PYTHON_VALIDATOR.is_valid(data):
        assert schema_problems == []
        return
    assert schema_problems, text
    mutated = "".join(f"/{part}" for part in path)
    for problem in schema_problems:
        assert resolves(data, problem.pointer) or mutated.startswith(problem.pointer), problem


@settings(max_examples=700, **SETTINGS)
@given(mutated_flow())
def test_fuzz_jsonschema_and_flowctl_agree(
    case: tuple[dict[str, Any], tuple[str | int, ...]],
) -> None:
    data, _ = case
    assert schema_rule.is_valid(data) == PYTHON_VALIDATOR.is_valid(data)


@pytest.mark.parametrize("name", sorted(BASE))
def test_fuzz_base_flows_valid_for_both_validators(name: str) -> None:
    assert schema_rule.is_valid(BASE[name])
    assert PYTHON_VALIDATOR.is_valid(BASE[name])
