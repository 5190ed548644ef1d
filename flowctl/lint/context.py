"""What rules may know beyond one document: the other documents of the call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flowctl.load import Document


@dataclass(frozen=True)
class Context:
    """Names defined by the files given together (and, with a store, stored ones).

    ``names`` maps a kind to the names known for it; ``first`` maps
    (kind, name) to the (file, document index) that defines it first.
    """

    names: Mapping[str, frozenset[str]] = field(default_factory=dict)
    first: Mapping[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    def has(self, kind: str, name: str) -> bool:
        return name in self.names.get(kind, frozenset())

    @classmethod
    def of(cls, docs: Iterable[Document], known: Iterable[tuple[str, str]] = ()) -> Context:
        """The context of documents given together, plus (kind, name) pairs known elsewhere."""
        names: dict[str, set[str]] = {}
        first: dict[tuple[str, str], tuple[str, int]] = {}
        for doc in docs:
            if doc.kind and doc.name:
                names.setdefault(doc.kind, set()).add(doc.name)
                first.setdefault((doc.kind, doc.name), (doc.source.path, doc.index))
        for kind, name in known:
            names.setdefault(kind, set()).add(name)
        return cls({k: frozenset(v) for k, v in names.items()}, first)
