"""unknown-flow-ref: a start_flow or transfer_to target not found."""

from __future__ import annotations

from collections.abc import Callable

from flowctl.lint import Problem
from tests.lint.conftest import HEAD, flow

Lint = Callable[..., list[Problem]]

OTHER = HEAD.replace("name: demo", "name: customer-onboarding") + "  steps: [{id: a, type: end}]\n"
BODY = """\
  steps:
    - {id: hand-over, type: start_flow, flow: customer-onboarding}
  success:
    when: {event: sale_created}
    transfer_to: customer-onboarding
"""


def test_unknown_flow_ref_start_flow_and_transfer_warn(lint: Lint) -> None:
    problems = lint(flow(BODY))
    assert [(p.rule, p.level) for p in problems] == [("unknown-flow-ref", "warning")] * 2
    first, second = problems
    assert (first.line, first.column, first.pointer) == (9, 47, "/spec/steps/0/flow")
    assert (second.line, second.column, second.pointer) == (12, 18, "/spec/success/transfer_to")
    assert first.message.startswith("flow 'customer-onboarding' is not defined in the files given")


def test_unknown_flow_ref_target_in_other_file_passes(lint: Lint) -> None:
    assert lint(flow(BODY), OTHER) == []


def test_unknown_flow_ref_mailing_of_that_name_does_not_count(lint: Lint) -> None:
    mailing = (
        "apiVersion: flowctl/v1\nkind: Mailing\nmetadata: {name: customer-onboarding}\n"
        "spec: {from: a@b.example, subject: Hi, text: Hello}\n"
    )
    assert len(lint(flow(BODY), mailing)) == 2
