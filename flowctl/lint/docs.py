"""The rules reference (``docs/rules.md``), written from the rules' own docstrings."""

from __future__ import annotations

import inspect

from flowctl.lint.rules import REGISTRY

HEADER = """\
# Lint rules

`flowctl validate` runs these rules. Each diagnostic names its rule id; a
comment `# flowctl: disable=RULE-ID` on the line or the line above silences
it. This page is generated from the rules' docstrings (`make docs`).
"""


def rules_markdown() -> str:
    """Markdown with one section per registered rule: id, severity, docs, examples."""
    parts = [HEADER]
    for rule_id, module in REGISTRY.items():
        doc = inspect.cleandoc(module.__doc__ or "")
        title, _, body = doc.partition("\n")
        summary = title.split(": ", 1)[-1]
        kinds = ", ".join(module.KINDS) or "any file"
        parts.append(f"## `{rule_id}`\n\nSeverity: **{module.LEVEL}**. Checks: {kinds}.\n")
        parts.append(f"{summary[:1].upper()}{summary[1:]}\n")
        parts.append(_examples_as_fences(body.strip()) + "\n")
    return "\n".join(parts)


def _examples_as_fences(body: str) -> str:
    """Turn reStructuredText ``Fails::`` blocks into fenced YAML blocks."""
    out: list[str] = []
    in_block = False
    for line in body.splitlines():
        if line.rstrip().endswith("::") and not line.startswith(" "):
            if in_block:
                out.append("```")
            out.append(f"**{line.rstrip(':').strip()}:**\n\n```yaml")
            in_block = True
        elif in_block and line and not line.startswith("    "):
            out.append("```")
            out.append(line)
            in_block = False
        else:
            out.append(line[4:] if in_block else line)
    if in_block:
        out.append("```")
    return "\n".join(out).replace("```yaml\n\n", "```yaml\n").replace("\n\n```\n", "\n```\n")


if __name__ == "__main__":
    print(rules_markdown(), end="")
