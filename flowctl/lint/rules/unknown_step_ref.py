"""unknown-step-ref: a ``goto`` to a step that does not exist.

Fails::

    steps:
      - {id: remind, type: send_email, mailing: reminder}
      - {id: again, type: goto, step: remnid}

Passes::

    steps:
      - {id: remind, type: send_email, mailing: reminder}
      - {id: pause, type: delay, duration: 3d}
      - {id: again, type: goto, step: remind}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps
from flowctl.load import Document

ID = "unknown-step-ref"
LEVEL = "error"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    steps = list(flow_steps(doc.spec))
    ids = [s["id"] for s, _ in steps if isinstance(s.get("id"), str)]
    for step, pointer in steps:
        target = step.get("step")
        if step.get("type") == "goto" and isinstance(target, str) and target not in ids:
            close = difflib.get_close_matches(target, ids, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            yield Finding(
                f"{pointer}/step", f"goto names step '{target}', which does not exist{hint}"
            )
