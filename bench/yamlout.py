"""A small block-style YAML writer for generated flows: plain scalars where safe, like people write.

Strings that a YAML parser could read as something else (times, dates,
numbers, booleans, anything with punctuation) are written double-quoted
(JSON escaping is valid YAML). Multi-line strings use literal blocks.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN = re.compile(r"(?:[A-Za-z_][A-Za-z0-9 _./'-]*[A-Za-z0-9_.']|[A-Za-z_]|\d+[smhdw])")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def dump(data: dict[str, Any], *, header: str = "") -> str:
    """One YAML document (a mapping) as text, after an optional comment header."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.extend(_mapping(data, 0))
    return "\n".join(lines) + "\n"


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and " #" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _is_block(value: Any) -> bool:
    return (isinstance(value, dict | list) and bool(value)) or (
        isinstance(value, str) and "\n" in value
    )


def _flow_list(items: list[Any]) -> str:
    return "[" + ", ".join(scalar(i) for i in items) + "]"


def _inline(value: Any) -> str:
    if isinstance(value, list):
        return _flow_list(value)
    if isinstance(value, dict):
        return "{}"
    return scalar(value)


def _entry(key: str, value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, str) and "\n" in value:
        body = value if value.endswith("\n") else value + "\n"
        lines = body[:-1].split("\n")
        return [f"{pad}{key}: |", *(f"{pad}  {line}" if line else "" for line in lines)]
    if isinstance(value, list) and value and all(not isinstance(v, dict | list) for v in value):
        return [f"{pad}{key}: {_flow_list(value)}"]
    if _is_block(value):
        inner = indent + 2
        nested = _mapping(value, inner) if isinstance(value, dict) else _sequence(value, inner)
        return [f"{pad}{key}:", *nested]
    return [f"{pad}{key}: {_inline(value)}"]


def _mapping(data: dict[str, Any], indent: int) -> list[str]:
    lines: list[str] = []
    for key, value in data.items():
        lines.extend(_entry(scalar(key), value, indent))
    return lines


def _sequence(items: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, dict) and item:
            inner = _mapping(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        elif isinstance(item, list) and item:
            lines.append(f"{pad}- {_flow_list(item)}")
        else:
            lines.append(f"{pad}- {_inline(item)}")
    return lines
