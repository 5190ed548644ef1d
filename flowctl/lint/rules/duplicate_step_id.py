"""duplicate-step-id: a step id used twice in a flow.

A participant's position is a step id, so ids must be unique in the whole
flow, branches included.

Fails::

    steps:
      - {id: hello, type: send_email, mailing: welcome}
      - id: check
        type: decision
        if: {tag: vip}
        then:
          - {id: hello, type: add_tag, tag: greeted}

Passes::

    steps:
      - {id: hello, type: send_email, mailing: welcome}
      - id: check
        type: decision
        if: {tag: vip}
        then:
          - {id: tag-greeted, type: add_tag, tag: greeted}
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps
from flowctl.load import Document, pointer_text

ID = "duplicate-step-id"
LEVEL = "error"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    first: dict[str, str] = {}
    for step, pointer in flow_steps(doc.spec):
        step_id = step.get("id")
        if not isinstance(step_id, str):
            continue
        if step_id in first:
            yield Finding(
                f"{pointer}/id",
                f"step id '{step_id}' is already used at {pointer_text(first[step_id])}; "
                "step ids must be unique in the whole flow",
            )
        else:
            first[step_id] = pointer
