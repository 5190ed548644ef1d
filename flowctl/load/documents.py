"""Files to documents: decoding, YAML 1.2 parsing, alias-bomb protection."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from flowctl.load.locate import Locator

MAX_NODES = 100_000
"""Most nodes a document may expand to; more means an alias bomb (billion laughs)."""

MAX_DEPTH = 100
"""Deepest nesting a document may have; real flows need a few dozen levels at most."""


@dataclass(frozen=True)
class Source:
    """One file's text and the name diagnostics use for it."""

    path: str
    text: str


@dataclass(frozen=True)
class LoadFailure:
    """Why a file (or one of its documents) could not be read: data, not an exception."""

    source: Source
    message: str
    line: int = 1
    column: int = 1
    rule: str = "yaml-syntax"


@dataclass
class Document:
    """One YAML document of a file, as plain data (dicts, lists, scalars)."""

    source: Source
    index: int
    data: Any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        kind = self.data.get("kind") if isinstance(self.data, dict) else None
        return kind if isinstance(kind, str) else None

    @property
    def name(self) -> str | None:
        meta = self.data.get("metadata") if isinstance(self.data, dict) else None
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) else None

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.data.get("spec") if isinstance(self.data, dict) else None
        return spec if isinstance(spec, dict) else {}


class _Constructor(SafeConstructor):
    """Safe YAML 1.2 construction that keeps timestamps as the strings written."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> str:
        return str(self.construct_scalar(node))


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def split_documents(text: str) -> list[str]:
    """The text of each document of a YAML stream, in order (for keeping a document's source).

    Splits at ``---`` document markers; chunks holding only comments and
    blank lines (or directives such as ``%YAML 1.2``) are dropped, so the list
    lines up with the parsed documents.
    """
    chunks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if line.startswith("---") and line[3:4] in ("", " ", "\t", "\n", "\r"):
            chunks.append([line] if line[3:].strip() else [])
        elif line.rstrip() == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    texts = ["".join(c) for c in chunks]
    return [t for t in texts if any(_is_content(x) for x in t.splitlines())]


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("#", "%")) and stripped != "---"


def _parser() -> YAML:
    yaml = YAML(typ="safe")
    yaml.Constructor = _Constructor
    return yaml


def read_source(path: Path | str, display: str | None = None) -> Source | LoadFailure:
    """Read a file as UTF-8 text; an unreadable or binary file is a :class:`LoadFailure`."""
    name = display or str(path)
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        return LoadFailure(Source(name, ""), "is a directory, not a file", rule="io-error")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return LoadFailure(Source(name, ""), f"cannot read the file: {reason}", rule="io-error")
    return decode_source(raw, name)


def decode_source(raw: bytes, name: str) -> Source | LoadFailure:
    """Decode bytes as UTF-8 (a BOM is dropped); binary data is a :class:`LoadFailure`."""
    if b"\x00" in raw[:8192]:
        return LoadFailure(Source(name, ""), "is a binary file, not YAML text", rule="io-error")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return LoadFailure(
            Source(name, ""),
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
            line=line,
            rule="io-error",
        )
    return Source(name, text)


def load_source(source: Source) -> tuple[list[Document], list[LoadFailure]]:
    """Parse every document of a file.

    Documents before a syntax error are kept; the error itself is a failure
    with its line and column. An empty file or an empty document is a failure
    too (a flowctl file holds mappings).
    """
    docs: list[Document] = []
    failures: list[LoadFailure] = []
    try:
        for index, data in enumerate(_parser().load_all(source.text)):
            docs.append(Document(source, index, data))
    except MarkedYAMLError as exc:
        failures.append(_syntax_failure(source, exc))
    except YAMLError as exc:
        failures.append(LoadFailure(source, f"YAML error: {exc}"))
    except RecursionError:
        failures.append(LoadFailure(source, "the YAML nests too deeply to be a flowctl document"))
    except (ValueError, TypeError, OverflowError) as exc:  # a scalar the parser cannot convert
        failures.append(LoadFailure(source, f"a YAML value cannot be read: {exc}"))
    if not docs and not failures:
        failures.append(
            LoadFailure(
                source,
                "the file holds no YAML document; expected a mapping with "
                "apiVersion, kind, metadata and spec",
                rule="schema",
            )
        )
    return _without_monsters(docs, failures), failures


def _syntax_failure(source: Source, exc: MarkedYAMLError) -> LoadFailure:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    message = f"invalid YAML: {problem}"
    if "duplicate key" in str(problem) and exc.context_mark is not None:
        first = _first_key_line(source.text, exc.context_mark, mark)
        where = f" (already defined on line {first})" if first else ""
        message = (
            f"invalid YAML: {problem.split(' with value')[0]}{where}; each key may appear once"
        )
    elif _char_at(source.text, mark) == "\t":
        message = "invalid YAML: a tab character; YAML indents with spaces, not tabs"
    elif exc.context and exc.problem:
        message = f"invalid YAML: {exc.problem} ({exc.context})"
    line, column = _within_text(source.text, mark, exc.context_mark)
    return LoadFailure(source, message, line, column)


def _within_text(text: str, mark: Any, context_mark: Any) -> tuple[int, int]:
    """A 1-based position on one of the file's lines.

    At the end of the file ("unexpected end of stream") the parser marks the
    line after the last one; the start of the unfinished node (an unclosed
    quote or bracket) says more, and else the end of the last line.
    """
    lines = text.splitlines()
    if mark is not None and mark.line >= len(lines):
        mark = context_mark if context_mark is not None and context_mark.line < len(lines) else None
        if mark is None:
            return max(1, len(lines)), len(lines[-1]) + 1 if lines else 1
    if mark is None:
        return 1, 1
    return mark.line + 1, mark.column + 1


def _first_key_line(text: str, mapping_mark: Any, key_mark: Any) -> int | None:
    """The line (1-based) where a duplicated key first appears in its mapping.

    The parser's error marks the mapping's start and the second key; the
    first one is found by composing the YAML again (only on this error path).
    """
    try:
        for root in YAML(typ="safe", pure=True).compose_all(text):
            stack = [root]
            while stack:
                node = stack.pop()
                if isinstance(node, MappingNode):
                    line = _first_of_key(node, mapping_mark, key_mark)
                    if line is not None:
                        return line
                    stack.extend(n for pair in node.value for n in pair)
                elif isinstance(node, SequenceNode):
                    stack.extend(node.value)
    except (YAMLError, RecursionError):
        pass
    return None


def _first_of_key(node: MappingNode, mapping_mark: Any, key_mark: Any) -> int | None:
    start = node.start_mark
    if (start.line, start.column) != (mapping_mark.line, mapping_mark.column):
        return None
    keys = [key for key, _ in node.value]
    for dup in keys:
        here = (dup.start_mark.line, dup.start_mark.column) == (key_mark.line, key_mark.column)
        if here and isinstance(dup, ScalarNode):
            for key in keys:
                if (key.tag, key.value) == (dup.tag, dup.value):
                    return int(key.start_mark.line) + 1
    return None


def _char_at(text: str, mark: Any) -> str:
    lines = text.splitlines()
    if mark is None or not 0 <= mark.line < len(lines):
        return ""
    line: str = lines[mark.line]
    return line[mark.column : mark.column + 1]


def _without_monsters(docs: list[Document], failures: list[LoadFailure]) -> list[Document]:
    """Drop documents that expand beyond :data:`MAX_NODES` or nest beyond :data:`MAX_DEPTH`.

    The checks and rules that follow recurse into documents, so a document
    nested hundreds of levels deep would exhaust the stack there.
    """
    kept = []
    for doc in docs:
        size, height = _measure(doc.data, {}, 0)
        if size > MAX_NODES:
            line = _first_alias_line(doc)
            message = (
                f"the document's aliases expand to more than {MAX_NODES:,} nodes "
                "(an alias bomb?); write the data out instead of nesting aliases"
            )
        elif height > MAX_DEPTH:
            line = Locator(doc.source.text).document_start(doc.index)[0]
            message = (
                f"the document nests more than {MAX_DEPTH} levels deep; "
                "a flowctl document needs far fewer"
            )
        else:
            kept.append(doc)
            continue
        failures.append(LoadFailure(doc.source, message, line=line))
    return kept


def _first_alias_line(doc: Document) -> int:
    """The line of the document's first alias (``*name``), or its first line."""
    start = Locator(doc.source.text).document_start(doc.index)[0]
    for number, line in enumerate(doc.source.text.splitlines()[start - 1 :], start=start):
        if "*" in line:
            return number
    return start


def _measure(node: Any, seen: dict[int, tuple[int, int]], depth: int) -> tuple[int, int]:
    """(node count with aliases expanded, levels of nesting) of a node.

    Each shared node is measured once. The walk stops as soon as either limit
    is passed, so it never recurses deeper than :data:`MAX_DEPTH`.
    """
    if not isinstance(node, dict | list):
        return 1, 0
    if depth > MAX_DEPTH:
        return 1, 1
    key = id(node)
    if key in seen:
        return seen[key]
    seen[key] = (MAX_NODES + 1, MAX_DEPTH + 1)  # a node that contains itself expands forever
    children: Iterator[Any] = iter(node.values()) if isinstance(node, dict) else iter(node)
    size, height = 1, 0
    for child in children:
        child_size, child_height = _measure(child, seen, depth + 1)
        size += child_size
        height = max(height, child_height + 1)
        if size > MAX_NODES or depth + height > MAX_DEPTH:
            break
    seen[key] = (size, height)
    return size, height
