"""Reporters for validation results: text, json, github, sarif (looked up by name)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flowctl import __version__
from flowctl.lint.problem import Problem, Result
from flowctl.lint.rules import REGISTRY, summary


def render_text(result: Result) -> str:
    """``path:line:col: severity: message [rule]``, the source line, a caret under the column."""
    out: list[str] = []
    lines_of: dict[str, list[str]] = {}
    for p in result.problems:
        out.append(f"{p.file}:{p.line}:{p.column}: {p.level}: {p.message} [{p.rule}]")
        lines = lines_of.setdefault(p.file, result.sources.get(p.file, "").splitlines())
        if 0 < p.line <= len(lines):
            source = lines[p.line - 1].replace("\t", " ")
            out.append(f"  {source}")
            out.append("  " + " " * (min(p.column, len(source) + 1) - 1) + "^")
    errors, warnings = result.error_count, result.warning_count
    if result.problems:
        out.append(
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
            f"in {result.files} file{'s' * (result.files != 1)}"
        )
    else:
        out.append(f"{result.files} file{'s' * (result.files != 1)} valid")
    return "\n".join(out) + "\n"


def render_json(result: Result) -> str:
    """The ``-o json`` shape of the CLI spec."""
    data = {
        "valid": result.valid,
        "files": result.files,
        "error_count": result.error_count,
        "warning_count": result.warning_count,
        "diagnostics": [
            {
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "severity": p.level,
                "rule": p.rule,
                "message": p.message,
                "pointer": p.pointer,
            }
            for p in result.problems
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_github(result: Result) -> str:
    """GitHub Actions workflow commands, one per problem."""
    return "".join(
        f"::{p.level} file={_gh(p.file, True)},line={p.line},col={p.column},"
        f"title={_gh(p.rule, True)}::{_gh(p.message, False)}\n"
        for p in result.problems
    )


def render_sarif(result: Result) -> str:
    """SARIF 2.1.0 with a rule entry (and its own level) per rule."""
    rule_ids = list(REGISTRY)
    rules = [
        {
            "id": rule_id,
            "name": rule_id,
            "shortDescription": {"text": summary(rule_id)},
            "fullDescription": {"text": (REGISTRY[rule_id].__doc__ or "").strip()},
            "defaultConfiguration": {"level": REGISTRY[rule_id].LEVEL},
        }
        for rule_id in rule_ids
    ]
    sarif: dict[str, Any] = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "flowctl",
                        "version": __version__,
                        "informationUri": "https://flowctl.dev",
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",  # columns count characters
                "results": [_sarif_result(p, rule_ids.index(p.rule)) for p in result.problems],
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def _sarif_result(p: Problem, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": p.rule,
        "ruleIndex": rule_index,
        "level": p.level,
        "message": {"text": p.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(p.file.replace("\\", "/"))},
                    "region": {"startLine": p.line, "startColumn": p.column},
                },
                **({"logicalLocations": [{"fullyQualifiedName": p.pointer}]} if p.pointer else {}),
            }
        ],
    }


def _gh(text: str, is_property: bool) -> str:
    """Escape for a GitHub workflow command (data, or a property value)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if is_property else text


REPORTERS: dict[str, Callable[[Result], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
}
