"""Contacts and events into the store: ``contacts import|list|show``, ``event send|ingest``.

Thin commands over :mod:`flowctl.operate.intake`. Bulk commands keep the
good rows and report each bad one as ``FILE:LINE: …`` on stderr, exiting 1
when there was any; a progress bar shows on a terminal, none when piped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from flowctl import clock
from flowctl.cli import app
from flowctl.cli.common import (
    DataFormat,
    OutputOpt,
    StoreOpt,
    TableFormat,
    input_file,
    open_store,
    print_data,
    print_table,
    progress,
)
from flowctl.errors import UsageError

if TYPE_CHECKING:
    from flowctl.operate.intake import Rejection

contacts_app = typer.Typer(help="Contacts in the store: import, list, show.", no_args_is_help=True)
event_app = typer.Typer(help="Events about contacts: send one, ingest many.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")
app.add_typer(event_app, name="event")

CONTACT_COLUMNS = ("id", "email", "first name", "last name", "company", "tags", "created")
STDIN = "-"

FileArg = Annotated[
    str,
    typer.Argument(metavar="FILE", help="CSV (with a header row) or JSONL; - for stdin."),
]


@contacts_app.command("import")
def contacts_import(
    ctx: typer.Context,
    file: FileArg,
    output: OutputOpt = TableFormat.table,
    store: StoreOpt = None,
) -> int:
    """Create or update contacts from a file, by id or else by e-mail."""
    from flowctl.operate.intake import contact_records, import_contacts

    now = clock.now()
    records = contact_records(*_source(file))  # refuses a CSV with no id/email column first
    with open_store(ctx, store) as st, progress("import", _rows(file)) as advance:
        result = import_contacts(st, records, now, on_progress=advance)
    if output != TableFormat.table:
        print_data(output, result.to_dict())
    else:
        typer.echo(
            f"created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, rejected {len(result.rejected)}"
        )
        _report(file, "rejected", result.rejected)
    return 1 if result.rejected else 0


@contacts_app.command("list")
def contacts_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="At most this many contacts.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
    output: OutputOpt = TableFormat.table,
    store: StoreOpt = None,
) -> int:
    """The contacts, in the order they were created."""
    from flowctl.operate.intake import contact_view, list_contacts

    with open_store(ctx, store, create=False) as st:
        rows, total = list_contacts(st, limit=limit, offset=offset)
    views = [contact_view(r) for r in rows]
    if output != TableFormat.table:
        print_data(output, views)
        return 0
    print_table(
        CONTACT_COLUMNS,
        [
            (
                v["id"],
                v["email"],
                v.get("first_name"),
                v.get("last_name"),
                v.get("company"),
                ", ".join(map(str, v["tags"])) or None,
                r.created_at.strftime("%Y-%m-%d %H:%M"),
            )
            for v, r in zip(views, rows, strict=True)
        ],
        empty="No contacts in the store." if not total else f"No contacts after the first {total}.",
    )
    if views and offset + len(views) < total:
        shown = f"{offset + 1}-{offset + len(views)} of {total}"
        typer.echo(f"{shown} shown; --offset {offset + len(views)} for more", err=True)
    return 0


@contacts_app.command("show")
def contacts_show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="REF", help="An e-mail address or id:VALUE.")],
    output: Annotated[DataFormat, typer.Option("-o", "--output")] = DataFormat.text,
    store: StoreOpt = None,
) -> int:
    """One contact: every field, its tags, campaigns, selections and projects, and
    what flows created for it (sales, activities, appointments, tickets …)."""
    from flowctl.operate.intake import show_contact

    with open_store(ctx, store, create=False) as st:
        view = show_contact(st, ref)
    if output != DataFormat.text:
        print_data(output, view)
        return 0
    created = view.pop("created_by_flows")
    _print_fields(view)
    if created:
        typer.echo("created by flows:")
    for made in created:
        data = json.dumps(made["data"], ensure_ascii=False, default=str)
        typer.echo(f"  {made['created_at']}  {made['kind']}  {made['flow']}/{made['step']}  {data}")
    return 0


@event_app.command("send")
def event_send(
    ctx: typer.Context,
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="The event's type.")],
    contact: Annotated[
        str, typer.Option("--contact", metavar="REF", help="An e-mail address or id:VALUE.")
    ],
    data: Annotated[
        Optional[list[str]],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(
            "--data",
            metavar="KEY=VALUE",
            help="A param (repeatable); the value is read as JSON when it is (3, true, [..]).",
        ),
    ] = None,
    at: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--at", metavar="INSTANT", help="When it occurred (default: now)."),
    ] = None,
    event_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--id", help="An id that makes sending it again harmless."),
    ] = None,
    output: Annotated[DataFormat, typer.Option("-o", "--output")] = DataFormat.text,
    store: StoreOpt = None,
) -> int:
    """Record one event for a contact (created when unknown)."""
    from flowctl.operate.intake import parse_ref, send_event

    parse_ref(contact)  # a usage error before the store is opened (and created)
    params = _params(data or [])
    occurred = _instant(at) if at is not None else None
    now = clock.now()
    with open_store(ctx, store) as st:
        result = send_event(st, event_type, contact, params, occurred, event_id, now)
    if output != DataFormat.text:
        print_data(output, result.to_dict())
    elif result.added:
        typer.echo(f"event/{event_type} recorded for {contact}")
    else:
        typer.echo(f"event/{event_type} duplicate (id {result.id} already recorded)")
    return 0


@event_app.command("ingest")
def event_ingest(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="JSON Lines, one event a line; - for stdin.")
    ],
    output: OutputOpt = TableFormat.table,
    store: StoreOpt = None,
) -> int:
    """Record events in bulk; bad lines are reported and skipped, the rest kept."""
    from flowctl.load.records import read_records
    from flowctl.operate.intake import ingest_events

    now = clock.now()
    records = read_records(*_source(file))
    with open_store(ctx, store) as st, progress("ingest", _rows(file)) as advance:
        result = ingest_events(st, records, now, on_progress=advance)
    if output != TableFormat.table:
        print_data(output, result.to_dict())
    else:
        typer.echo(
            f"added {result.added}, duplicates {result.duplicates}, rejected {len(result.rejected)}"
        )
        _report(file, "skipped", result.rejected)
    return 1 if result.rejected else 0


def _source(file: str) -> tuple[str, Any]:
    """``read_records`` arguments: a path, or stdin for ``-`` (JSONL, or CSV with a header)."""
    if file == STDIN:
        return STDIN, sys.stdin
    input_file(file, file, hint="give a CSV or JSONL file, or - for stdin")
    return file, None


def _rows(file: str) -> int | None:
    """About how many rows a file holds, for the progress bar (only shown on a terminal)."""
    if file == STDIN or not sys.stderr.isatty():
        return None
    try:
        with open(file, "rb") as stream:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    except OSError:
        return None
    return lines - 1 if file.lower().endswith(".csv") else lines


def _report(file: str, verb: str, rejected: list[Rejection]) -> None:
    name = "<stdin>" if file == STDIN else file
    for r in rejected:
        typer.echo(f"{name}:{r.line}: {verb}: {r.reason}", err=True)


def _params(items: list[str]) -> dict[str, Any]:
    """``--data`` pairs: values that read as JSON are taken as such, others as text; a
    dotted key nests (``set.category=prospect`` is ``{"set": {"category": "prospect"}}``)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        path = [part.strip() for part in key.split(".")]
        if not sep or not all(path):
            raise UsageError(
                f"--data {item!r} is not KEY=VALUE", hint="write it as --data url=https://…"
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        into = params
        for part in path[:-1]:
            inner = into.setdefault(part, {})
            if not isinstance(inner, dict):
                raise UsageError(f"--data {item!r}: '{part}' is given a value already")
            into = inner
        into[path[-1]] = value
    return params


def _instant(text: str) -> Any:
    from flowctl.operate.intake_checks import Rejected, instant_with_offset

    try:
        return instant_with_offset(text)
    except Rejected as exc:
        reason = str(exc).removeprefix("'occurred_at' ")
        raise UsageError(f"--at {reason}") from exc


def _print_fields(view: Mapping[str, Any]) -> None:
    """A contact as aligned ``key  value`` lines, lists comma-separated."""
    width = max(len(k) for k in view)
    for key, value in view.items():
        if isinstance(value, list):
            shown = ", ".join(map(str, value)) or "-"
        elif value is None:
            shown = "-"
        elif isinstance(value, dict | bool):
            shown = json.dumps(value, ensure_ascii=False)
        else:
            shown = str(value)
        typer.echo(f"{key:<{width}}  {shown}")
