"""duplicate-name: two documents of the same kind with the same name.

``metadata.name`` is a document's identity within a store, so two Mailings
(or two Flows) named alike would overwrite each other when applied.

Fails::

    kind: Mailing
    metadata: {name: welcome}
    ---
    kind: Mailing
    metadata: {name: welcome}

Passes::

    kind: Mailing
    metadata: {name: welcome}
    ---
    kind: Mailing
    metadata: {name: welcome-back}
"""

from __future__ import annotations

from collections.abc import Iterator

from flowctl.lint.context import Context
from flowctl.lint.problem import Finding
from flowctl.load import Document

ID = "duplicate-name"
LEVEL = "error"
KINDS = ("Flow", "Mailing", "Sms", "FlowTest")


def check(doc: Document, ctx: Context) -> Iterator[Finding]:
    if doc.kind and doc.name:
        first = ctx.first.get((doc.kind, doc.name))
        if first is not None and first != (doc.source.path, doc.index):
            yield Finding(
                "/metadata/name",
                f"{doc.kind} '{doc.name}' is already defined in {first[0]} "
                f"(document {first[1] + 1}); names must be unique per kind",
            )
