"""What the command modules share: output formats, JSON and table printing,
progress bars, and opening the store with the user's rights checked."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

if TYPE_CHECKING:
    from pathlib import Path

    from flowctl.config import Config
    from flowctl.store import Store


class DataFormat(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


OutputOpt = Annotated[TableFormat, typer.Option("-o", "--output", help="Output format.")]
StoreOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
    typer.Option(
        "--store",
        help="The store: a SQLite path, sqlite:///path or postgresql://… "
        "(env FLOWCTL_STORE; default: flowctl.db)",
        show_default=False,
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")]


@dataclass
class Globals:
    """Options given before the command (``flowctl --store X get flows``)."""

    store: str | None = None
    config: str | None = None


def globals_of(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals()


def open_store(ctx: typer.Context, store: str | None, *, create: bool = True) -> Store:
    """The store named by ``--store`` (command or global), ``FLOWCTL_STORE``, or the default."""
    from flowctl.store import open_store as _open

    return _open(store or globals_of(ctx).store, create=create)


def load_config(ctx: typer.Context) -> Config:
    from flowctl.config import load_config as _load

    return _load(globals_of(ctx).config)


def print_data(output: str, data: Any) -> None:
    """``data`` on stdout as JSON, or as YAML with the same keys and values."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if output != "yaml":
        sys.stdout.write(text + "\n")
        return
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment] # JSON order
    yaml.dump(json.loads(text), sys.stdout)


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output keeps lines and table rows whole (grep, awk), never folded.
    return Console(highlight=False, stderr=stderr, width=None if stream.isatty() else 100_000)


def input_file(path: str | Path, label: str, hint: str) -> Path:
    """``path`` when it names a file to read (a named pipe too), else a :class:`UsageError`
    that says which (``label``: ``--events x``, or the path) is missing or a folder."""
    from pathlib import Path

    from flowctl.errors import UsageError

    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{label} is a folder, not a file", hint=hint)
    if not file.exists():
        raise UsageError(f"{label}: no such file", hint=hint)
    return file


def write_file(path: Path, text: str, what: str) -> None:
    """Write ``what`` (a report, a JUnit file) to ``path``; a :class:`UsageError` that
    says why when it cannot be written (no such folder, a folder, no permission)."""
    from flowctl.errors import UsageError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write the {what} to '{path}': {exc.strerror or exc}",
            hint="give a file in a folder that exists and that you may write to",
        ) from exc


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, empty: str) -> None:
    """A rich table on stdout, or ``empty`` when there are no rows."""
    if not rows:
        typer.echo(empty)
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        table.add_column(column.upper(), overflow="fold")
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row))
    console().print(table)


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    output: TableFormat,
    keys: Sequence[str],
    *,
    empty: str,
    columns: Sequence[str] | None = None,
) -> int:
    """Rows as JSON (whole) or as a table of ``keys`` (headed by ``columns``); exit code 0."""
    if output != TableFormat.table:
        print_data(output, list(rows))
        return 0
    cells = [[_cell(row.get(k)) for k in keys] for row in rows]
    print_table(columns or keys, cells, empty=empty)
    return 0


def _cell(value: Any) -> Any:
    from flowctl.timeutil import isoformat

    return isoformat(value) if hasattr(value, "isoformat") else value


def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal unless ``--yes``; refuse without a terminal to ask on."""
    from flowctl.errors import Refused

    if yes:
        return
    if not sys.stdin.isatty():
        raise Refused(
            "this needs confirmation and there is no terminal to ask on",
            hint="add --yes to confirm",
        )
    if not typer.confirm(question, default=False, err=True):
        raise typer.Abort()


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal, advanced with the count done; nothing when piped."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.progress import Progress

    bar = Progress(transient=True, console=console(stderr=True))
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def log_to_stderr() -> None:
    """Structured log lines on stderr for the long-running commands: flowctl's own at
    INFO (one line per batch); APScheduler's per-job lines only when something fails."""
    import logging

    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
