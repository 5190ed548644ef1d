"""Views of the store: ``get flows``, ``describe``, ``users`` and ``audit``.

Thin commands over :mod:`flowctl.operate.views`: each checks the acting
user's right, asks the library for data and prints it as a table, a text
overview or JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from flowctl import clock
from flowctl.cli import app
from flowctl.cli.common import (
    DataFormat,
    OutputOpt,
    StoreOpt,
    TableFormat,
    console,
    open_store,
    print_data,
    print_table,
)

get_app = typer.Typer(help="List what the store holds.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles (functional rights).", no_args_is_help=True)
app.add_typer(get_app, name="get")
app.add_typer(users_app, name="users")

FLOW_COLUMNS = (
    "name",
    "title",
    "folder",
    "state",
    "version",
    "participants",
    "success rate",
    "updated",
)


class FlowState(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    deactivated = "deactivated"


class Role(StrEnum):
    flow_admin = "flow-admin"
    content_editor = "content-editor"


@get_app.command("flows")
def get_flows(
    ctx: typer.Context,
    state: Annotated[
        Optional[FlowState],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(help="Only flows in this state."),
    ] = None,
    running: Annotated[bool, typer.Option("--running", help="Only active flows.")] = False,
    recent: Annotated[
        bool, typer.Option("--recent", help="Changed or shown in the last 7 days, newest first.")
    ] = False,
    folder: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Only flows in this folder or below it."),
    ] = None,
    search: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Text in the name, title or description (any case)."),
    ] = None,
    output: OutputOpt = TableFormat.table,
    store: StoreOpt = None,
) -> int:
    """List the flows: name, title, folder, state, version, participants, success rate."""
    from flowctl.operate.rights import VIEW, authorize
    from flowctl.operate.views import flow_json, list_flows

    now = clock.now()
    with open_store(ctx, store, create=False) as st:
        authorize(st, VIEW)
        rows = list_flows(
            st,
            state=state.value if state else None,
            running=running,
            recent=recent,
            folder=folder,
            search=search,
            now=now,
        )
    if output != TableFormat.table:
        print_data(output, [flow_json(r) for r in rows])
        return 0
    filtered = bool(state or running or recent or folder is not None or search)
    print_table(
        FLOW_COLUMNS,
        [
            (
                r.name,
                r.title,
                r.folder,
                r.state,
                r.version,
                r.participants,
                _percent(r.success_rate),
                _when(r.updated_at),
            )
            for r in rows
        ],
        empty="No flows match." if filtered else "No flows in the store.",
    )
    return 0


@app.command()
def describe(
    ctx: typer.Context,
    flow: Annotated[str, typer.Argument(help="The flow's name.")],
    output: Annotated[DataFormat, typer.Option("-o", "--output")] = DataFormat.text,
    store: StoreOpt = None,
) -> int:
    """Overview of one flow: metadata, state, versions, triggers, participants, success rate,
    mailing stats."""
    from flowctl.operate.rights import VIEW, authorize
    from flowctl.operate.views import describe_flow

    now = clock.now()
    with open_store(ctx, store, create=False) as st:
        authorize(st, VIEW)
        data = describe_flow(st, flow, now)
    if output != DataFormat.text:
        print_data(output, data)
    else:
        _print_overview(data)
    return 0


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user's name (what FLOWCTL_USER holds).")],
    role: Annotated[Role, typer.Option("--role", help="The user's role.")],
    store: StoreOpt = None,
) -> int:
    """Add a user, or change a user's role (a flow-admin's right; anyone adds the first)."""
    from flowctl.operate.views import add_user

    with open_store(ctx, store) as st:
        created = add_user(st, name, role.value, now=clock.now())
    typer.echo(f"user/{name.strip()} {'created' if created else 'updated'} ({role.value})")
    return 0


@users_app.command("list")
def users_list(
    ctx: typer.Context, output: OutputOpt = TableFormat.table, store: StoreOpt = None
) -> int:
    """The users and their roles."""
    from flowctl.operate.rights import VIEW, authorize
    from flowctl.operate.views import users_json

    with open_store(ctx, store, create=False) as st:
        authorize(st, VIEW)
        users = users_json(st)
    if output != TableFormat.table:
        print_data(output, users)
    else:
        print_table(
            ("name", "role"),
            [(u["name"], u["role"]) for u in users],
            empty="No users: everyone may do everything (add one with `flowctl users add`).",
        )
    return 0


@app.command("audit")
def audit_log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 100,
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Only entries since this long ago (7d) or this instant."),
    ] = None,
    output: OutputOpt = TableFormat.table,
    store: StoreOpt = None,
) -> int:
    """The audit log, newest first: who changed what, and when."""
    from flowctl.operate.rights import VIEW, authorize
    from flowctl.operate.views import audit_json, parse_since

    start = parse_since(since, clock.now()) if since else None
    with open_store(ctx, store, create=False) as st:
        authorize(st, VIEW)
        entries = [audit_json(e) for e in st.audit_log(limit=limit, since=start)]
    if output != TableFormat.table:
        print_data(output, entries)
    else:
        columns = ("at", "user", "command", "object", "detail")
        print_table(
            columns, [[e[c] for c in columns] for e in entries], empty="The audit log is empty."
        )
    return 0


# -- rendering -----------------------------------------------------------------


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _print_overview(data: Mapping[str, Any]) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    out = console()
    title = f" — {escape(data['title'])}" if data["title"] else ""
    out.print(f"[bold]flow/{escape(data['name'])}[/bold]{title}")
    facts = Table.grid(padding=(0, 2))
    for label, value in _facts(data):
        facts.add_row(f"[dim]{label}[/dim]", escape(value))
    out.print(facts)

    out.print("\n[bold]Versions[/bold]")
    versions = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in ("VERSION", "CREATED", "BY", "HASH"):
        versions.add_column(column)
    for v in data["history"]:
        versions.add_row(
            str(v["version"]), v["created_at"], escape(v["created_by"]), v["hash"][:12]
        )
    out.print(versions)

    out.print("\n[bold]Triggers[/bold]")
    for trigger in data["triggers"]:
        out.print(f"  - {escape(_trigger_text(trigger))}")

    out.print("\n[bold]Participants by status[/bold]")
    statuses = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    statuses.add_column("STATUS")
    statuses.add_column("COUNT", justify="right")
    for status, count in data["statuses"].items():
        statuses.add_row(status, str(count))
    out.print(statuses)
    out.print(
        f"Participants: {data['participants']}, succeeded: {data['succeeded']}, "
        f"success rate: {_percent(data['success_rate'])}"
    )
    if data["mailings"]:
        out.print("\n[bold]Mailings[/bold]")
        for name, m in data["mailings"].items():
            out.print(
                f"  - {escape(name)}: sent {m['sent']}, opened {m['opened']} "
                f"({_percent(m['open_rate'])}), clicked {m['clicked']} "
                f"({_percent(m['click_rate'])})"
            )
    if data["content"]:
        out.print("\n[bold]Content[/bold]")
        for item in data["content"]:
            mark = "applied" if item["applied"] else "[red]not applied[/red]"
            out.print(f"  - {item['kind']} {escape(item['name'])}: {mark}")


def _facts(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    since = f" since {data['activated_at']}" if data["activated_at"] else ""
    labels = ", ".join(f"{k}={v}" for k, v in sorted(data["labels"].items()))
    facts = [
        ("Description", data["description"]),
        ("Folder", data["folder"]),
        ("Labels", labels),
        ("Owner", data["owner"]),
        ("State", f"{data['state']}{since}"),
        ("Version", f"{data['version']} of {data['versions']}"),
        ("Created", data["created_at"]),
        ("Updated", data["updated_at"]),
    ]
    return [(label, str(value)) for label, value in facts if value]


def _trigger_text(trigger: Any) -> str:
    if not isinstance(trigger, Mapping):
        return str(trigger)
    params = " ".join(f"{k}={v}" for k, v in trigger.items() if k not in ("type", "filter"))
    text = " ".join(part for part in (str(trigger.get("type")), params) if part)
    return text + (" (with a filter)" if "filter" in trigger else "")
