"""The rule registry: every rule documented, tested, and the spec's rules present."""

from __future__ import annotations

import inspect
import re
import textwrap
from types import ModuleType

import pytest

from flowctl.lint import Problem, validate_sources
from flowctl.lint.rules import REGISTRY
from flowctl.load import Source
from tests.conftest import REPO
from tests.lint.conftest import HEAD

SPEC_RULES = {
    "yaml-syntax": "error",
    "schema": "error",
    "duplicate-step-id": "error",
    "unknown-step-ref": "error",
    "loop-without-wait": "error",
    "split-weights": "error",
    "invalid-timezone": "error",
    "unreachable-step": "warning",
    "unknown-content-ref": "warning",
    "unknown-flow-ref": "warning",
    "template": "error",
}
"""The rule table of the CLI spec (`flowctl validate`): id → severity."""

RULES = sorted(REGISTRY.items())


def module_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


@pytest.mark.parametrize(("rule_id", "severity"), sorted(SPEC_RULES.items()))
def test_registry_spec_rule_exists_with_severity(rule_id: str, severity: str) -> None:
    assert rule_id in REGISTRY
    assert severity == REGISTRY[rule_id].LEVEL


@pytest.mark.parametrize(("rule_id", "module"), RULES)
def test_registry_rule_has_id_level_kinds(rule_id: str, module: ModuleType) -> None:
    assert rule_id == module.ID
    assert module_name(module) == rule_id.replace("-", "_")
    assert module.LEVEL in ("error", "warning")
    assert isinstance(module.KINDS, tuple)
    assert set(module.KINDS) <= {"Flow", "Mailing", "Sms", "FlowTest"}
    if module.KINDS:
        assert callable(module.check)


@pytest.mark.parametrize(("rule_id", "module"), RULES)
def test_registry_rule_docstring_has_examples(rule_id: str, module: ModuleType) -> None:
    doc = inspect.cleandoc(module.__doc__ or "")
    assert doc.startswith(f"{rule_id}: ")
    assert "\nFails::\n" in doc
    assert "\nPasses::\n" in doc
    assert doc.index("Fails::") < doc.index("Passes::")


@pytest.mark.parametrize(("rule_id", "module"), RULES)
def test_registry_rule_has_test_file(rule_id: str, module: ModuleType) -> None:
    path = REPO / "tests" / "lint" / f"test_{module_name(module)}.py"
    assert path.is_file(), f"{rule_id} has no {path.relative_to(REPO)}"
    text = path.read_text(encoding="utf-8")
    assert f"def test_{module_name(module)}_" in text


# The docstring examples are fragments (a step, a steps list, a spec key, a
# content key); each is put into the smallest document it fits.

CONTEXT = (
    """\
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: welcome}
spec: {from: a@b.example, subject: Hi, text: Hello}
---
"""
    + HEAD.replace("name: demo", "name: customer-onboarding")
    + "  steps: [{id: z, type: end}]\n"
)
"""Documents that the examples' passing cases name (a Mailing and a Flow)."""


def example(module: ModuleType, label: str) -> str:
    """The literal block after ``Fails::`` or ``Passes::`` in a rule's docstring."""
    doc = inspect.cleandoc(module.__doc__ or "")
    match = re.search(rf"^{label}::\n\n((?:    .*\n|\n)+)", doc + "\n", re.MULTILINE)
    assert match, f"no {label}:: block"
    return textwrap.dedent(match.group(1)).strip("\n") + "\n"


def embed(fragment: str) -> str:
    """A whole document around an example fragment."""
    first = fragment.split(":", 1)[0]
    if fragment.startswith("kind:"):  # whole documents, apiVersion and spec left out
        return fragment
    if fragment.startswith("- "):  # step items
        return HEAD + "  steps:\n" + textwrap.indent(fragment, "    ")
    if first in ("subject", "text", "html"):  # content keys
        others = "".join(f"  {key}: Hi\n" for key in ("subject", "text") if key != first)
        return (
            "apiVersion: flowctl/v1\nkind: Mailing\nmetadata: {name: sample}\n"
            "spec:\n  from: a@b.example\n" + others + textwrap.indent(fragment, "  ")
        )
    if first == "spec":
        fragment = textwrap.dedent(fragment.split("\n", 1)[1])
        first = fragment.split(":", 1)[0]
    steps = "" if first == "steps" else "  steps: [{id: only, type: end}]\n"
    return HEAD.replace("spec:\n", "spec:\n" + steps) + textwrap.indent(fragment, "  ")


EXAMPLE_RULES = [(rule_id, m) for rule_id, m in RULES if rule_id != "io-error"]


@pytest.mark.parametrize(("rule_id", "module"), EXAMPLE_RULES)
def test_registry_docstring_fails_example_fails(rule_id: str, module: ModuleType) -> None:
    text = embed(example(module, "Fails"))
    assert rule_id in {p.rule for p in lint_example(text)}, text


@pytest.mark.parametrize(("rule_id", "module"), EXAMPLE_RULES)
def test_registry_docstring_passes_example_passes(rule_id: str, module: ModuleType) -> None:
    text = embed(example(module, "Passes"))
    problems = lint_example(text)
    assert rule_id not in {p.rule for p in problems}, (text, problems)


def lint_example(text: str) -> list[Problem]:
    sources = [Source("example.yaml", text)]
    if not text.startswith("kind:"):  # whole documents stand alone
        sources.append(Source("context.yaml", CONTEXT))
    return validate_sources(sources).problems
