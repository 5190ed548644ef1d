"""docs/rules.md is generated from the rules' docstrings and kept current."""

from __future__ import annotations

from ruamel.yaml import YAML

from flowctl.lint.docs import rules_markdown
from flowctl.lint.rules import REGISTRY
from tests.conftest import REPO


def test_rules_doc_current_with_registry() -> None:
    written = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert written == rules_markdown(), "docs/rules.md is stale: run `make docs`"


def test_rules_doc_names_every_rule() -> None:
    text = rules_markdown()
    for rule_id, module in REGISTRY.items():
        assert f"## `{rule_id}`" in text
        assert f"Severity: **{module.LEVEL}**" in text


def test_every_passing_example_is_yaml() -> None:
    text = rules_markdown()
    for section in text.split("\n## ")[1:]:
        if "**Passes:**" not in section or "$ flowctl" in section:
            continue  # io-error shows commands, not YAML
        example = section.split("**Passes:**\n\n```yaml\n", 1)[1].split("\n```", 1)[0]
        list(YAML(typ="safe").load_all(example))  # raises for one that does not parse
