"""Bulk input: contacts and events as CSV (with a header row) or JSON Lines.

Readers yield one :class:`Record` per data line: either the row as a
mapping, or the reason it cannot be read, with its line number, so a bad row
is reported and the rest is kept.

CSV conventions: empty cells are left out; ``tags``, ``campaigns``,
``selections`` and ``projects`` are lists separated by ``;`` or ``|``;
``unsubscribed`` takes true/false/yes/no/1/0.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from flowctl.errors import InputError

LIST_COLUMNS = ("tags", "campaigns", "selections", "projects")
BOOL_COLUMNS = ("unsubscribed",)
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


class Record(NamedTuple):
    """One data line: ``data`` when it could be read, else ``error``."""

    line: int
    data: dict[str, Any] | None = None
    error: str | None = None


def read_records(path: Path | str, stream: IO[str] | None = None) -> Iterator[Record]:
    """Rows of a CSV (``.csv``) or JSON Lines file (anything else), line-numbered.

    ``stream`` reads from an open text stream instead (``-`` for stdin): JSON
    Lines when its first line is an object, else CSV with a header.
    Raises :class:`InputError` only when the file itself cannot be opened.
    """
    name = str(path)
    if stream is None:
        try:
            stream = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror or exc}") from exc
    with stream:
        if name == "-":
            try:
                head = stream.readline().removeprefix("\ufeff")
            except UnicodeDecodeError as exc:
                raise InputError(f"standard input is not UTF-8 text ({exc.reason})") from exc
            if head.strip() and not head.lstrip().startswith("{"):
                yield from _csv_records(io.StringIO(head + stream.read()), "standard input")
            else:
                yield from _jsonl_records(itertools.chain([head], stream), "standard input")
        elif name.lower().endswith(".csv"):
            yield from _csv_records(stream, name)
        else:
            yield from _jsonl_records(stream, name)


def _jsonl_records(stream: Iterable[str], name: str) -> Iterator[Record]:
    try:
        for number, line in enumerate(stream, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Record(number, error=f"not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            if isinstance(value, dict):
                yield Record(number, value)
            else:
                kind = type(value).__name__
                yield Record(number, error=f"expected a JSON object, found {kind}")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text ({exc.reason})", hint="save it as UTF-8"
        ) from exc


def _csv_records(stream: IO[str], name: str) -> Iterator[Record]:
    try:
        text = stream.read()
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text ({exc.reason})", hint="save it as UTF-8"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise InputError(f"{name} has no header row", hint="the first line names the columns")
    columns = [h.strip() for h in header]
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            yield Record(
                number, error=f"has {len(row)} cells, the header has {len(columns)} columns"
            )
            continue
        try:
            yield Record(number, _csv_row(columns, row))
        except ValueError as exc:
            yield Record(number, error=str(exc))


def _csv_row(columns: list[str], row: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column, raw in zip(columns, row, strict=True):
        cell = raw.strip()
        if not column or not cell:
            continue
        if column in LIST_COLUMNS:
            data[column] = [p.strip() for p in cell.replace("|", ";").split(";") if p.strip()]
        elif column in BOOL_COLUMNS:
            lowered = cell.lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError(f"'{column}' must be true or false, not {cell!r}")
            data[column] = lowered in _TRUE
        else:
            data[column] = cell
    return data
