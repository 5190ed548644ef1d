"""unknown-flow-ref: a ``start_flow`` or ``transfer_to`` target not found.

Looked up among the files given (and the store, with ``--store``).

Fails::

    success:
      when: {event: sale_created}
      transfer_to: customer-onbaording

Passes::

    success:
      when: {event: sale_created}
      transfer_to: customer-onboarding   # a Flow of that name is given
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps
from flowctl.load import Document

ID = "unknown-flow-ref"
LEVEL = "warning"
KINDS = ("Flow",)


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    refs = [
        (f"{pointer}/flow", step.get("flow"))
        for step, pointer in flow_steps(doc.spec)
        if step.get("type") == "start_flow"
    ]
    success = doc.spec.get("success")
    if isinstance(success, dict):
        refs.append(("/spec/success/transfer_to", success.get("transfer_to")))
    for pointer, name in refs:
        if isinstance(name, str) and not ctx.has("Flow", name):
            yield Finding(
                pointer,
                f"flow '{name}' is not defined in the files given; pass its file too, "
                "or apply it to the store first",
            )
