"""The store itself: ``flowctl store migrate --from flowctl.db --to postgresql://…``.

A thin command over :func:`flowctl.store.migrate.migrate`: a progress bar
on a terminal (none when piped), then the rows of every table in the
source and in the destination, which must agree.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import typer

from flowctl.cli import app
from flowctl.cli.common import OutputOpt, TableFormat, console, globals_of, print_data, print_table

store_app = typer.Typer(help="The store itself: move it to PostgreSQL.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("migrate")
def store_migrate(
    ctx: typer.Context,
    destination: Annotated[
        str,
        typer.Option(
            "--to",
            help="The PostgreSQL store to fill: postgresql://user:password@host:5432/database "
            "(the database must exist; its tables are created).",
            show_default=False,
        ),
    ],
    source: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(
            "--from",
            help="The SQLite store to copy (default: --store, FLOWCTL_STORE or flowctl.db).",
            show_default=False,
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Delete what the destination holds first (by default a destination "
            "that holds anything is refused).",
        ),
    ] = False,
    output: OutputOpt = TableFormat.table,
) -> int:
    """Copy a whole SQLite store into PostgreSQL, then check the rows of every table.

    Flows and content with every version, flow state, contacts, events,
    participants mid-flow, history, counters, the outbox, CRM objects,
    users and the audit log: everything. Stop the daemon first; start it
    again with --store set to the new URL. The copy is one transaction:
    when it fails, or the counts differ, the destination keeps nothing.
    """
    from flowctl.store import store_url
    from flowctl.store.migrate import migrate

    origin = store_url(source or globals_of(ctx).store)
    with _bar() as advance:
        result = migrate(origin, destination, replace=replace, on_progress=advance)
    if output != TableFormat.table:
        print_data(
            output,
            {
                "source": result.source,
                "destination": result.destination,
                "tables": {
                    t.table: {"source": t.source, "copied": t.destination} for t in result.tables
                },
                "rows": result.rows,
            },
        )
        return 0
    print_table(
        ("table", "source", "copied", "check"),
        [(t.table, t.source, t.destination, "ok" if t.ok else "DIFFERS") for t in result.tables],
        empty="no tables",
    )
    typer.echo(f"copied {result.rows} rows from {result.source} to {result.destination}")
    return 0


@contextmanager
def _bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar of all rows on a terminal; nothing when stderr is piped."""
    if not sys.stderr.isatty():
        yield lambda table, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=console(stderr=True),
    )
    with bar:
        task = bar.add_task("copying", total=None)

        def advance(table: str, done: int, total: int) -> None:
            bar.update(task, description=table, completed=done, total=total)

        yield advance
