"""JSON pointers to line and column, by a second parse that keeps positions.

The round-trip parser is several times slower than the fast loader, so it
runs only for files that have something to report, once per file.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError


def pointer_parts(pointer: str) -> list[str]:
    """``/spec/steps/0`` → ``["spec", "steps", "0"]`` (RFC 6901 unescaping)."""
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def make_pointer(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """The RFC 6901 pointer for a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_text(pointer: str) -> str:
    """A pointer as people read paths: ``spec.steps[0].then[1]``."""
    out = ""
    for part in pointer_parts(pointer):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "(document)"


class Locator:
    """Finds the line and column (1-based) of a node in one file's documents."""

    def __init__(self, text: str):
        self._text = text
        self._docs: list[Any] | None = None

    def _documents(self) -> list[Any]:
        if self._docs is None:
            yaml = YAML(typ="rt")
            yaml.Constructor = _Constructor
            yaml.allow_duplicate_keys = True
            try:
                self._docs = list(yaml.load_all(self._text))
            except (YAMLError, RecursionError, ValueError):
                self._docs = []
        return self._docs

    def position(self, doc_index: int, pointer: str, *, key: bool = False) -> tuple[int, int]:
        """Where the node at ``pointer`` starts.

        ``key=True`` asks for the key itself (an unknown key). A pointer to a
        mapping or list that is a mapping value gives the position of its key,
        so "missing key" diagnostics point at the line that names the mapping.
        The deepest position found is returned when the pointer runs off the
        document.
        """
        docs = self._documents()
        if doc_index >= len(docs):
            return self.document_start(doc_index)
        node = docs[doc_index]
        where = self._start_of(node) or self.document_start(doc_index)
        parts = pointer_parts(pointer)
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if isinstance(node, CommentedMap):
                name = _map_key(node, part)
                if name is _MISSING:
                    return where
                child = node[name]
                # An empty value (null) has no token of its own: its mark is
                # wherever the next token is, maybe lines below; use the key.
                scalar = child is not None and not isinstance(child, CommentedMap | CommentedSeq)
                try:
                    found = (
                        node.lc.value(name) if last and scalar and not key else node.lc.key(name)
                    )
                except KeyError:  # a key merged in (<<: *anchor) has no position of its own
                    found = None
            elif isinstance(node, CommentedSeq) and part.isdigit() and int(part) < len(node):
                name = int(part)
                child = node[name]
                found = node.lc.item(name)
            else:
                return where
            if found is not None and found[0] is not None:
                where = (found[0] + 1, found[1] + 1)
            node = child
        return where

    @staticmethod
    def _start_of(node: Any) -> tuple[int, int] | None:
        lc = getattr(node, "lc", None)
        if lc is None or lc.line is None:
            return None
        return (lc.line + 1, lc.col + 1)

    def document_start(self, doc_index: int) -> tuple[int, int]:
        """The first line of the document: after its ``---`` marker, if any."""
        seen = -1
        lines = self._text.splitlines()
        for number, line in enumerate(lines, start=1):
            if line.startswith("---"):
                seen += 1
                if seen >= doc_index:
                    return (number, 1)
            elif seen < 0 and line.strip() and not line.lstrip().startswith("#"):
                seen = 0
                if doc_index == 0:
                    return (number, 1)
        return (1, 1)


_MISSING = object()


class _Constructor(RoundTripConstructor):
    """Round-trip construction that keeps timestamps as the strings written (as the
    loader does): a date that does not exist, 2026-13-45, must not stop locating."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        return self.construct_scalar(node)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def _map_key(node: CommentedMap, part: str) -> Any:
    if part in node:
        return part
    for candidate in node:  # keys that YAML typed: 1, true, null
        if str(candidate) == part:
            return candidate
    return _MISSING
