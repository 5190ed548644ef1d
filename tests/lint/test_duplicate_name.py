"""duplicate-name: two documents of the same kind with the same name."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem

Lint = Callable[..., list[Problem]]


def mailing(name: str) -> str:
    return (
        f"apiVersion: flowctl/v1\nkind: Mailing\nmetadata:\n  name: {name}\n"
        "spec:\n  from: a@b.example\n  subject: Hi\n  text: Hello\n"
    )


def test_duplicate_name_across_files_points_at_second(lint: Lint) -> None:
    (problem,) = lint(mailing("welcome"), mailing("welcome"))
    assert (problem.rule, problem.level) == ("duplicate-name", "error")
    assert (problem.file, problem.line, problem.column) == ("b.yaml", 4, 9)
    assert problem.pointer == "/metadata/name"
    assert "Mailing 'welcome' is already defined in a.yaml (document 1)" in problem.message


def test_duplicate_name_second_document_of_same_file(lint: Lint) -> None:
    (problem,) = lint(mailing("welcome") + "---\n" + mailing("welcome"))
    assert (problem.file, problem.line, problem.column) == ("a.yaml", 13, 9)


def test_duplicate_name_different_names_pass(lint: Lint) -> None:
    assert lint(mailing("welcome"), mailing("welcome-back")) == []


def test_duplicate_name_same_name_other_kind_passes(lint: Lint) -> None:
    sms = "apiVersion: flowctl/v1\nkind: Sms\nmetadata: {name: welcome}\nspec: {text: Hi}\n"
    assert lint(mailing("welcome"), sms) == []
