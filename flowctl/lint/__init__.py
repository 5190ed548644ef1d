"""Checking flowctl files: YAML syntax, the JSON Schema, and the semantic rules.

:func:`validate_paths` is what ``flowctl validate`` runs; it returns a
:class:`Result` (problems as data) that reporters render.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from flowctl.errors import FlowctlError
from flowctl.lint.context import Context
from flowctl.lint.problem import Finding, Level, Problem, Result
from flowctl.lint.rules import REGISTRY, SEMANTIC
from flowctl.lint.rules import schema as schema_rule
from flowctl.lint.suppress import is_suppressed, suppressions
from flowctl.load import Document, LoadFailure, Locator, Source, load_source, read_source
from flowctl.load.discover import expand_paths

__all__ = [
    "Context",
    "InvalidDocuments",
    "Level",
    "Problem",
    "Result",
    "check_documents",
    "load_each",
    "load_valid",
    "validate_paths",
]


def validate_paths(
    paths: Sequence[str | Path],
    *,
    stdin: Source | None = None,
    known: Iterable[tuple[str, str]] = (),
) -> Result:
    """Validate files and directories (recursive) together.

    ``stdin`` is a source read from standard input (``-`` on the command
    line). ``known`` lists (kind, name) pairs that exist elsewhere (the
    store), so references to them are not reported.
    """
    sources: list[Source | LoadFailure] = [read_source(p) for p in expand_paths(paths)]
    if stdin is not None:
        sources.append(stdin)
    return validate_sources(sources, known=known)


def validate_sources(
    sources: Sequence[Source | LoadFailure], *, known: Iterable[tuple[str, str]] = ()
) -> Result:
    """Validate already-read sources together (cross-file references resolve among them)."""
    return _check(sources, known)[1]


def load_valid(
    paths: Sequence[str | Path], *, known: Iterable[tuple[str, str]] = ()
) -> tuple[list[Document], Result]:
    """The documents of files that validate without errors (warnings are returned).

    Raises :class:`InvalidDocuments` (carrying the result) when any has an error,
    so nothing is run or stored from a broken file.
    """
    sources: list[Source | LoadFailure] = [read_source(p) for p in expand_paths(paths)]
    docs, result = _check(sources, known)
    if not result.valid:
        raise InvalidDocuments(result)
    return docs, result


def load_each(path: str | Path) -> list[tuple[Document, Result]]:
    """One file's documents, each with its own diagnostics, so that a broken one does
    not hide the others. Raises :class:`InvalidDocuments` when the file itself cannot
    be read or parsed."""
    source = read_source(path)
    if isinstance(source, LoadFailure):
        raise InvalidDocuments(Result(files=1, problems=[_failure_problem(source)]))
    texts = {source.path: source.text}
    docs, failures = load_source(source)
    if failures:
        problems = [_failure_problem(f) for f in failures]
        raise InvalidDocuments(Result(files=1, problems=problems, sources=texts))
    ctx = Context.of(docs)
    return [
        (doc, Result(1, sorted(set(_unsuppressed(check_documents([doc], ctx), texts))), texts))
        for doc in docs
    ]


class InvalidDocuments(FlowctlError):
    """Files with validation errors; ``result`` holds the diagnostics."""

    def __init__(self, result: Result):
        count = result.error_count
        super().__init__(
            f"{count} error{'s' * (count != 1)} in the files given; nothing was done",
            hint="fix them; `flowctl validate` shows the same diagnostics",
        )
        self.result = result


def _check(
    sources: Sequence[Source | LoadFailure], known: Iterable[tuple[str, str]]
) -> tuple[list[Document], Result]:
    docs: list[Document] = []
    problems: list[Problem] = []
    texts: dict[str, str] = {}
    for source in sources:
        if isinstance(source, LoadFailure):
            problems.append(_failure_problem(source))
            continue
        texts[source.path] = source.text
        loaded, failures = load_source(source)
        docs.extend(loaded)
        problems.extend(_failure_problem(f) for f in failures)
    problems.extend(check_documents(docs, Context.of(docs, known)))
    problems = _unsuppressed(problems, texts)
    unique = sorted(set(problems))  # one report of a problem two checks found alike
    return docs, Result(files=len(sources), problems=unique, sources=texts)


def check_documents(docs: Sequence[Document], ctx: Context) -> list[Problem]:
    """Schema and semantic findings for parsed documents, located in their files."""
    problems: list[Problem] = []
    locators: dict[str, Locator] = {}
    for doc in docs:
        for rule, finding in _findings(doc, ctx):
            locator = locators.setdefault(doc.source.path, Locator(doc.source.text))
            line, column = locator.position(doc.index, finding.pointer, key=finding.key)
            problems.append(
                Problem(
                    doc.source.path,
                    line,
                    column,
                    rule,
                    REGISTRY[rule].LEVEL,
                    finding.message,
                    finding.pointer,
                )
            )
    return problems


def _findings(doc: Document, ctx: Context) -> Iterable[tuple[str, Finding]]:
    if not isinstance(doc.data, dict):
        shape = "nothing" if doc.data is None else _shape(doc.data)
        message = f"expected a mapping with apiVersion, kind, metadata and spec, found {shape}"
        return [(schema_rule.ID, Finding("", message))]
    found: list[tuple[str, Finding]] = []
    shape_ok = schema_rule.is_valid(doc.data)
    if not shape_ok:
        found.extend((schema_rule.ID, f) for f in schema_rule.check(doc, ctx))
    for rule in SEMANTIC:
        if doc.kind not in rule.KINDS:
            continue
        try:
            found.extend((rule.ID, finding) for finding in rule.check(doc, ctx))
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            # Rules assume the schema's shape; on a document that breaks it they
            # report what they can, and the schema errors say the rest.
            if shape_ok:
                raise
    return found


def _shape(data: object) -> str:
    if isinstance(data, list):
        return "a list"
    return f"a single value ({data!r:.40})"


def _failure_problem(failure: LoadFailure) -> Problem:
    return Problem(
        failure.source.path,
        failure.line,
        failure.column,
        failure.rule,
        REGISTRY[failure.rule].LEVEL,
        failure.message,
    )


def _unsuppressed(problems: list[Problem], texts: dict[str, str]) -> list[Problem]:
    disabled = {path: suppressions(text) for path, text in texts.items()}
    return [p for p in problems if not is_suppressed(p, disabled.get(p.file, {}))]
