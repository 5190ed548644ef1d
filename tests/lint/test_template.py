"""template: a Jinja2 template that does not parse, or names a variable that cannot exist."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]


def mailing(subject: str, text: str = "Hello") -> str:
    return (
        "apiVersion: flowctl/v1\n"
        "kind: Mailing\n"
        "metadata: {name: welcome}\n"
        "spec:\n"
        "  from: a@b.example\n"
        f"  subject: {subject}\n"
        f"  text: {text}\n"
    )


def test_template_unclosed_tag_fails(lint: Lint) -> None:
    (problem,) = lint(mailing('"Welcome, {{ contact.first_name }"'))
    assert (problem.rule, problem.level) == ("template", "error")
    assert (problem.line, problem.column, problem.pointer) == (6, 12, "/spec/subject")
    assert problem.message.startswith("template does not parse:")


def test_template_unknown_root_suggests_contact(lint: Lint) -> None:
    (problem,) = lint(mailing('"Welcome, {{ contcat.first_name }}"'))
    assert problem.rule == "template"
    assert "template names 'contcat', which is not available (did you mean 'contact'?)" in (
        problem.message
    )


def test_template_unknown_participant_field_fails(lint: Lint) -> None:
    (problem,) = lint(mailing("Hi", '"step {{ participant.stepcount }}"'))
    assert (problem.line, problem.pointer) == (7, "/spec/text")
    assert "participant.stepcount, which does not exist" in problem.message


def test_template_multiline_error_names_template_line(lint: Lint) -> None:
    (problem,) = lint(mailing("Hi", "|\n    line one\n    {% if contact.vip %}\n    no endif"))
    assert problem.pointer == "/spec/text"
    assert "(template line" in problem.message


def test_template_in_flow_step_fails(lint: Lint) -> None:
    text = flow(
        "  steps:\n"
        "    - id: tell\n"
        "      type: notify\n"
        "      to: sales@acme.example\n"
        '      message: "{{ contact.email "\n'
    )
    (problem,) = lint(text)
    assert (problem.rule, problem.pointer) == ("template", "/spec/steps/0/message")
    assert (problem.line, problem.column) == (12, 16)


@pytest.mark.parametrize(
    "subject",
    [
        "\"Welcome, {{ contact.first_name | default('friend') }}\"",
        '"{{ contact.custom_field }} and {{ trigger.webinar }}"',
        "Plain text without braces",
    ],
)
def test_template_valid_template_passes(lint: Lint, subject: str) -> None:
    assert lint(mailing(subject)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{% if contact.vip %}{{ contact.first_name | uper }}{% endif %}",
            "no filter named 'uper'",
        ),
        ("{% if contact.x is nosuchtest %}x{% endif %}", "no test named 'nosuchtest'"),
    ],
)
def test_template_unknown_filter_or_test_in_a_branch_fails(
    lint: Lint, text: str, message: str
) -> None:
    (problem,) = lint(mailing("Hi", f'"{text}"'))
    assert problem.rule == "template" and message in problem.message
