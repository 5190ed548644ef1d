"""unknown-content-ref: a mailing or sms not found among the files given.

With ``--store``, content already applied to the store counts as found. A
flow may be written before its content; activation is refused until the
content exists, so this is a warning.

Fails::

    - {id: welcome, type: send_email, mailing: welcom}   # no Mailing 'welcom'

Passes::

    - {id: welcome, type: send_email, mailing: welcome}  # a Mailing 'welcome' is given
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.lint.walk import flow_steps
from flowctl.load import Document

ID = "unknown-content-ref"
LEVEL = "warning"
KINDS = ("Flow",)

_REFS = {"send_email": ("mailing", "Mailing"), "send_sms": ("sms", "Sms")}


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    for step, pointer in flow_steps(doc.spec):
        key, kind = _REFS.get(str(step.get("type")), ("", ""))
        name = step.get(key) if key else None
        if isinstance(name, str) and not ctx.has(kind, name):
            yield Finding(
                f"{pointer}/{key}",
                f"{kind} '{name}' is not defined in the files given; write it (kind: {kind}) "
                "or pass its file too; activation is refused until it exists",
            )
