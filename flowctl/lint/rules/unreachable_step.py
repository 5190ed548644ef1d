"""unreachable-step: steps after an ``end`` or ``goto`` in the same list.

Such steps never run, unless a ``goto`` elsewhere jumps to them.

Fails::

    steps:
      - {id: done, type: end}
      - {id: forgotten, type: send_email, mailing: thanks}

Passes::

    steps:
      - {id: thanks, type: send_email, mailing: thanks}
      - {id: done, type: end}
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps, iter_step_lists
from flowctl.load import Document

ID = "unreachable-step"
LEVEL = "warning"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    targets = {s.get("step") for s, _ in flow_steps(doc.spec) if s.get("type") == "goto"}
    for steps, pointer in iter_step_lists(doc.spec.get("steps")):
        stopper: str | None = None
        reported = False
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            if step.get("id") in targets:
                stopper, reported = None, False
            elif stopper and not reported:
                reported = True
                yield Finding(
                    f"{pointer}/{index}",
                    f"step '{step.get('id')}' is never reached: it follows {stopper} "
                    "in the same list and no goto jumps to it",
                )
            if step.get("type") in ("end", "goto"):
                stopper = f"'{step.get('id')}' ({step['type']})"
