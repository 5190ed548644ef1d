"""Files to documents: decoding, YAML 1.2 parsing, alias-bomb protection."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

MAX_NODES = 100_000
"""Most nodes a document may expand to; more means an alias bomb (billion laughs)."""


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
    if not docs and not failures:
        failures.append(
            LoadFailure(
                source,
                "the file holds no YAML document; expected a mapping with "
                "apiVersion, kind, metadata and spec",
                rule="schema",
            )
        )
    if "*" in source.text:
        docs = _without_bombs(docs, failures)
    return docs, failures


def _syntax_failure(source: Source, exc: MarkedYAMLError) -> LoadFailure:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    message = f"invalid YAML: {problem}"
    if "duplicate key" in str(problem) and exc.context_mark is not None:
        message = (
            f"invalid YAML: {problem.split(' with value')[0]} "
            f"(already defined on line {exc.context_mark.line + 1}); each key may appear once"
        )
    elif exc.context and exc.problem:
        message = f"invalid YAML: {exc.problem} ({exc.context})"
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    return LoadFailure(source, message, line, column)


def _without_bombs(docs: list[Document], failures: list[LoadFailure]) -> list[Document]:
    """Drop documents whose aliases expand beyond :data:`MAX_NODES`."""
    kept = []
    for doc in docs:
        if _expanded_size(doc.data, {}) > MAX_NODES:
            line = doc.source.text[: doc.source.text.index("*")].count("\n") + 1
            failures.append(
                LoadFailure(
                    doc.source,
                    f"the document's aliases expand to more than {MAX_NODES:,} nodes "
                    "(an alias bomb?); write the data out instead of nesting aliases",
                    line=line,
                )
            )
        else:
            kept.append(doc)
    return kept


def _expanded_size(node: Any, seen: dict[int, int]) -> int:
    """Node count with aliases expanded, computed once per shared node."""
    if not isinstance(node, dict | list):
        return 1
    key = id(node)
    if key in seen:
        return seen[key]
    seen[key] = MAX_NODES + 1  # a node that contains itself expands forever
    children: Iterator[Any] = iter(node.values()) if isinstance(node, dict) else iter(node)
    total = 1
    for child in children:
        total += _expanded_size(child, seen)
        if total > MAX_NODES:
            break
    seen[key] = total
    return total
