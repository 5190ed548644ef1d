"""schema: anything the JSON Schema (``schemas/flow.schema.json``) rejects.

The message names the expected keys or values, and the diagnostic points at
the unknown key, the bad value, or the mapping that lacks a required key.

Fails::

    - id: wait
      type: delay
      duraton: 2d        # unknown key 'duraton' in a delay step (did you mean 'duration'?)

Passes::

    - id: wait
      type: delay
      duration: 2d
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from flowctl import schema as flow_schema
from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.load import Document
from flowctl.load.locate import make_pointer

ID = "schema"
LEVEL = "error"
KINDS: tuple[str, ...] = ()  # a stage before the kind-specific rules

_PATTERN_HINTS = {
    "duration": "is not a duration; write it as 90m, 3d, 1d12h, 2w or ISO 8601 (P3D, PT2H30M)",
    "instant": "is not an instant; write 2026-11-22T09:00:00+01:00, 2026-11-22T08:00:00Z "
    "or a date such as 2026-11-22",
    "name": "is not a valid name; use lowercase letters, digits and '-' (at most 63, "
    "starting and ending with a letter or digit), e.g. welcome-series",
    "time_of_day": 'is not a time of day; write HH:MM on the 24-hour clock, quoted: "09:00"',
    "field_path": "is not a field path; write contact.FIELD, company.FIELD or trigger.FIELD "
    "(dotted for nested data), participant.entered_at or participant.step_count",
}


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    """Validate the document against the schema; one finding per distinct problem."""
    seen: set[tuple[str, str]] = set()
    errors = _one_type_error_per_node(_errors(doc.data))
    unknown = {
        make_pointer(list(e.instance_path)): [str(k) for k in e.kind.as_dict()["unexpected"]]
        for e in errors
        if e.kind.name == "additionalProperties"
    }
    for error in errors:
        if _explained_by_typo(error, unknown):
            continue
        for finding in _explain(error):
            same = (finding.pointer, _gist(finding.message))
            if same not in seen:
                seen.add(same)
                yield finding


def _gist(message: str) -> str:
    """What a message says, whichever schema branch it came from: a key missing in
    'the document' and in 'a Flow document' is one problem, as is one unknown key
    named against two lists of the keys expected."""
    if message.startswith(("missing required key ", "unknown key ")):
        return message.partition(" in ")[0]
    return message


def is_valid(data: Any) -> bool:
    """The fast check: no messages, no positions."""
    try:
        return bool(flow_schema.validator().is_valid(data))
    except (ValueError, TypeError, OverflowError):
        return bool(flow_schema.validator().is_valid(to_json(data)))


_MAX_CONDITION_NESTING = 8
"""Deeper all/any/not nesting gets only the first schema error (see :func:`_errors`)."""


def _errors(data: Any) -> list[Any]:
    validator = flow_schema.validator()
    try:
        return _collect(validator, data)
    except (ValueError, TypeError, OverflowError):
        return _collect(validator, to_json(data))


def _collect(validator: Any, data: Any) -> list[Any]:
    """Every schema error, or only the first one for deeply nested conditions.

    A condition is checked both by its own ``properties`` and by the
    ``allOf`` branch of its combinator, so the errors below nested all/any/not
    double with each level: 2**20 errors for a 20-deep ``not`` chain.
    """
    import jsonschema_rs

    if _condition_nesting(data) <= _MAX_CONDITION_NESTING:
        return list(validator.iter_errors(data))
    try:
        validator.validate(data)
    except jsonschema_rs.ValidationError as error:
        return [error]
    return []


def _condition_nesting(node: Any) -> int:
    """How many all/any/not combinators nest inside each other, at most."""
    if isinstance(node, list):
        return max((_condition_nesting(item) for item in node), default=0)
    if not isinstance(node, dict):
        return 0
    inner = max((_condition_nesting(value) for value in node.values()), default=0)
    return inner + (1 if {"all", "any", "not"} & node.keys() else 0)


def to_json(node: Any) -> Any:
    """Plain JSON data: keys as strings, odd YAML types (binary, sets) as strings."""
    if isinstance(node, dict):
        return {str(k): to_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_json(v) for v in node]
    if node is None or isinstance(node, bool | str):
        return node
    if isinstance(node, int):
        return node if abs(node) < 2**63 else str(node)
    if isinstance(node, float):
        return node if node == node and abs(node) != float("inf") else str(node)
    return str(node)


def _one_type_error_per_node(errors: list[Any]) -> list[Any]:
    """A node of the wrong type gets one error, from the most general subschema.

    Step and trigger subschemas apply by ``if``/``then`` on ``type``, and an
    ``if`` holds vacuously for a non-mapping: a null step would otherwise get
    "must be a mapping" once per step type, plus each type's oneOf.
    """
    chosen: dict[str, Any] = {}
    for error in errors:
        if error.kind.name == "type":
            pointer = make_pointer(list(error.instance_path))
            if pointer not in chosen or _specificity(error) < _specificity(chosen[pointer]):
                chosen[pointer] = error
    return [e for e in errors if chosen.get(make_pointer(list(e.instance_path)), e) is e]


def _specificity(error: Any) -> tuple[int, bool]:
    path = list(error.schema_path)
    return len(path), any("-" in str(part) for part in path)


def _explained_by_typo(error: Any, unknown: dict[str, list[str]]) -> bool:
    """A missing key next to a misspelt one (``duraton``) is reported once, as the typo."""
    typos = unknown.get(make_pointer(list(error.instance_path)))
    if not typos:
        return False
    if error.kind.name == "required":
        wanted = [str(error.kind.as_dict()["property"])]
    else:
        schema_path = list(error.schema_path)
        parent = flow_schema.subschema(schema_path[:-1]) if schema_path else {}
        wanted = _choice_keys(parent.get(schema_path[-1])) if schema_path else []
    return any(difflib.get_close_matches(typo, wanted, n=1, cutoff=0.6) for typo in typos)


def _explain(error: Any) -> Iterator[Finding]:
    kind = error.kind.name
    path = list(error.instance_path)
    pointer = make_pointer(path)
    schema_path = list(error.schema_path)
    keyword = schema_path[-1] if schema_path else kind
    parent = flow_schema.subschema(schema_path[:-1]) if schema_path else {}
    place = _place(schema_path, path)
    field = _field(path)
    details = error.kind.as_dict()
    if kind == "additionalProperties":
        allowed = list(parent.get("properties", {}))
        for key in details.get("unexpected", []):
            yield Finding(
                make_pointer([*path, key]),
                f"unknown key '{key}' in {place}; " + _expected(str(key), allowed),
                key=True,
            )
    elif keyword == "dependentRequired":
        for key, needs in parent.get("dependentRequired", {}).items():
            if isinstance(error.instance, dict) and key in error.instance:
                missing = [n for n in needs if n not in error.instance]
                if missing:
                    yield Finding(
                        make_pointer([*path, key]),
                        f"'{key}' in {place} only goes with '{missing[0]}'; "
                        f"add '{missing[0]}' or remove '{key}'",
                        key=True,
                    )
    elif kind == "required":
        yield Finding(pointer, f"missing required key '{details['property']}' in {place}")
    elif kind in ("oneOf", "anyOf") and _choice_keys(parent.get(keyword)):
        typo = _typo(parent, parent[keyword], error.instance)
        if typo is None:
            yield Finding(pointer, _choice_message(kind, place, parent[keyword], error.instance))
        else:
            choices = _choice_keys(parent[keyword])
            yield Finding(
                make_pointer([*path, typo]),
                f"unknown key '{typo}' in {place}; {_expected(typo, choices)}",
                key=True,
            )
    else:
        yield Finding(pointer, _value_message(kind, field, place, parent, error, details))


def _field(path: list[Any]) -> str:
    """The name messages give the value at ``path``: its key, or which item of a list."""
    if not path:
        return "the document"
    if isinstance(path[-1], int):
        owner = f" of {path[-2]}" if len(path) > 1 and isinstance(path[-2], str) else ""
        return f"item {path[-1] + 1}{owner}"
    return str(path[-1])


def _value_message(
    kind: str, field: str, place: str, parent: Any, error: Any, details: dict[str, Any]
) -> str:
    value = error.instance
    shown = _show(value)
    if kind == "enum":
        options = [str(o) for o in details.get("options", [])]
        what = {"type": "type", "kind": "kind"}.get(field, f"value for '{field}'")
        if field == "type" and place.endswith("step"):
            what = "step type"
        elif field == "type" and "trigger" in place:
            what = "trigger type"
        return f"{shown} is not a valid {what}; " + _expected(str(value), options)
    if kind == "const":
        return f"'{field}' must be {_show(details.get('expected_value'))}, not {shown}"
    if kind == "type":
        expected = " or ".join(_type_name(t) for t in details.get("types", []))
        hint = ""
        durational = "[smhdw]" in str(parent.get("pattern", ""))  # a (signed) duration's
        if durational or "duration" in str(parent.get("$ref", "")):
            hint = "; write a duration as text such as '3d' or '90m' (a bare number is ambiguous)"
        return f"'{field}' in {place} must be {expected}, not {_type_name(value)}{hint}"
    if kind == "pattern":
        pattern_hint = _PATTERN_HINTS.get(_pattern_name(parent.get("pattern", "")))
        if pattern_hint:
            return f"{shown} in '{field}' {pattern_hint}"
        return f"{shown} is not a valid '{field}' (it must match {parent.get('pattern')})"
    if kind == "minItems":
        count = details.get("limit", 1)
        return f"'{field}' in {place} needs at least {count} item{'s' if count != 1 else ''}"
    if kind == "minLength":
        return f"'{field}' in {place} must not be empty"
    if kind == "minProperties":
        return f"'{field}' in {place} must not be empty"
    if kind == "uniqueItems":
        return f"'{field}' in {place} lists the same item twice"
    if kind in ("minimum", "maximum"):
        bound = details.get("limit")
        word = "at least" if kind == "minimum" else "at most"
        return f"'{field}' in {place} must be {word} {bound}, not {shown}"
    if kind == "propertyNames":
        return f"{place} has a key that is not a valid field name (letters, digits and '_')"
    if kind == "anyOf" and field in ("before", "after"):
        return f"{shown} in '{field}' is not an instant or a relative duration such as -30d"
    described = parent.get("description") if kind in ("anyOf", "oneOf") else None
    if isinstance(described, str) and described:  # what the choices mean, not each branch
        return f"{shown} is not a valid '{field}': {described[0].lower()}{described[1:]}"
    return f"{place}: {error.message}"


def _choice_keys(branches: Any) -> list[str]:
    """The keys of a oneOf/anyOf whose branches each just require one key."""
    if not isinstance(branches, list):
        return []
    keys = []
    for branch in branches:
        required = branch.get("required") if isinstance(branch, dict) else None
        if not (isinstance(required, list) and len(required) == 1 and len(branch) == 1):
            return []
        keys.append(required[0])
    return keys


def _choice_message(kind: str, place: str, branches: list[Any], instance: Any) -> str:
    keys = _choice_keys(branches)
    present = [k for k in keys if isinstance(instance, dict) and k in instance]
    listed = ", ".join(keys)
    if kind == "oneOf" and len(present) > 1:
        return f"{place} takes only one of {listed}; it has {' and '.join(present)}"
    exactly = "exactly one" if kind == "oneOf" else "one"
    return f"{place} needs {exactly} of: {listed}"


def _typo(parent: Any, branches: list[Any], instance: Any) -> str | None:
    """A key where one of the choices should be, when none is there (a typo, likely);
    keys the schema knows beside the choices are not typos."""
    keys = _choice_keys(branches)
    if not isinstance(instance, dict) or any(k in instance for k in keys):
        return None
    known = set(parent.get("properties", {}))
    return next((str(k) for k in instance if k not in keys and k not in known), None)


def _place(schema_path: list[Any], instance_path: list[Any]) -> str:
    """Say in words which part of the document an error is in."""
    if len(schema_path) >= 2 and schema_path[0] == "$defs":
        name = str(schema_path[1])
        head, _, rest = name.partition("-")
        if head == "step" and rest:
            return f"{_article(rest)} {rest} step"
        if head == "trigger" and rest:
            return f"{_article(rest)} {rest} trigger"
        if head == "condition":
            return f"a '{rest}' condition" if rest else "a condition"
        if name in flow_schema.KINDS:
            inner = [p for p in schema_path[2:-1] if p != "properties"]  # not the keyword
            if inner[:1] == ["spec"]:
                section = [p for p in inner[1:] if isinstance(p, str) and p not in _KEYWORDS]
                return f"'{section[0]}'" if section else f"a {name}'s spec"
            return f"a {name} document"
        return {"metadata": "metadata", "variant": "a split variant"}.get(name, name)
    return "the document" if not instance_path else f"'{instance_path[-1]}'"


_KEYWORDS = {"items", "anyOf", "oneOf", "allOf", "then", "if", "additionalProperties"}


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _pattern_name(pattern: str) -> str:
    defs = flow_schema.schema()["$defs"]
    for name in _PATTERN_HINTS:
        if defs[name]["pattern"] == pattern:
            return name
    return ""


def _expected(word: str, options: list[str]) -> str:
    """A suggestion when one option is close to what was written, else the options."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"expected one of: {', '.join(options)}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, str):
        return {
            "object": "a mapping",
            "array": "a list",
            "string": "text",
            "integer": "a whole number",
            "number": "a number",
            "boolean": "true or false",
            "null": "null",
        }.get(value, value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return "text"
