"""unknown-content-ref: a mailing or sms not found among the files given."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import flow

Lint = Callable[..., list[Problem]]

MAILING = """\
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: welcome}
spec: {from: a@b.example, subject: Hi, text: Hello}
"""
SMS = """\
apiVersion: flowctl/v1
kind: Sms
metadata: {name: reminder}
spec: {text: Soon}
"""
STEPS = """\
  steps:
    - {id: mail, type: send_email, mailing: welcome}
    - {id: text, type: send_sms, sms: reminder}
"""


def test_unknown_content_ref_missing_mailing_warns(lint: Lint) -> None:
    (problem,) = lint(flow(STEPS), SMS)
    assert (problem.rule, problem.level) == ("unknown-content-ref", "warning")
    assert (problem.file, problem.line, problem.column) == ("a.yaml", 9, 45)
    assert problem.pointer == "/spec/steps/0/mailing"
    assert problem.message.startswith("Mailing 'welcome' is not defined in the files given")


def test_unknown_content_ref_missing_sms_warns(lint: Lint) -> None:
    (problem,) = lint(flow(STEPS), MAILING)
    assert problem.rule == "unknown-content-ref"
    assert problem.pointer == "/spec/steps/1/sms"
    assert problem.message.startswith("Sms 'reminder' is not defined")


def test_unknown_content_ref_sms_named_like_mailing_warns(lint: Lint) -> None:
    # A Mailing does not satisfy a send_sms: the kind must match.
    sms_as_mailing = MAILING.replace("welcome", "reminder")
    problems = lint(flow(STEPS), MAILING, sms_as_mailing)
    assert [p.pointer for p in problems] == ["/spec/steps/1/sms"]


def test_unknown_content_ref_content_in_other_files_passes(lint: Lint) -> None:
    assert lint(flow(STEPS), MAILING, SMS) == []


def test_unknown_content_ref_content_in_same_file_passes(lint: Lint) -> None:
    assert lint(flow(STEPS) + "---\n" + MAILING + "---\n" + SMS) == []
