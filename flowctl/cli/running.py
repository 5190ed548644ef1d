"""Commands that run flows and show what ran: daemon, enroll, participants, history, messages."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Optional

import typer

from flowctl import clock
from flowctl.cli import app
from flowctl.cli.common import (
    OutputOpt,
    StoreOpt,
    TableFormat,
    load_config,
    log_to_stderr,
    open_store,
    print_data,
    print_rows,
)


class Status(StrEnum):
    active = "active"
    waiting = "waiting"
    completed = "completed"
    succeeded = "succeeded"
    exited = "exited"
    canceled = "canceled"


class MessageStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    canceled = "canceled"


@app.command()
def daemon(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Process everything due at now, then exit.")
    ] = False,
    tick: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option("--tick", help="How often to look for due work (default: \\[daemon] tick)."),
    ] = None,
    http: Annotated[
        bool, typer.Option("--http", help="Serve HTTP too, as `flowctl serve` would (\\[http]).")
    ] = False,
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """Run the flows: enter participants from events, run due steps, deliver messages."""
    from flowctl.daemon import Daemon, serve
    from flowctl.daemon.effects import tracking
    from flowctl.errors import UsageError
    from flowctl.http.tracking import tracker_for

    if http and once:
        raise UsageError("--http serves beside the daemon's clock; it cannot go with --once")
    log_to_stderr()
    config = load_config(ctx)
    every = _tick(tick) if tick else config.daemon.tick
    with open_store(ctx, store) as st, tracking(tracker_for(config)):
        runner = Daemon(st, config)
        server = None
        try:
            if not once:
                if http:
                    from flowctl.http.server import beside

                    server = beside(runner, config, st.url)
                serve(runner, every, clock.now)
                return 0
            stats = runner.run_once(clock.now())
        finally:
            if server is not None:
                server.stop()
            runner.close()
    if output != TableFormat.table:
        print_data(output, stats.to_dict())
    else:
        typer.echo(
            f"events {stats.events}, entered {stats.entered}, steps {stats.steps}, "
            f"messages queued {stats.messages}, sent {stats.delivered}, failed {stats.failed}"
        )
    return 0


@app.command()
def enroll(
    ctx: typer.Context,
    flow: Annotated[str, typer.Argument(help="The flow's name.", show_default=False)],
    contact: Annotated[str, typer.Option("--contact", help="An e-mail address or id:VALUE.")],
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """Register a contact in a flow by hand (its filter and reentry still apply)."""
    from flowctl.operate.running import enroll as run_enroll

    with open_store(ctx, store) as st:
        outcome = run_enroll(st, flow, contact, now=clock.now())
    if output != TableFormat.table:
        print_data(output, outcome)
    elif outcome["held"]:
        typer.echo(f"{contact} enrolled in flow/{flow}; it enters if the flow is resumed")
    elif outcome["entered"]:
        typer.echo(f"{contact} enrolled in flow/{flow}; the daemon's next tick runs its steps")
    else:
        typer.echo(f"{contact} was not entered into flow/{flow}: {outcome['reason']}")
    return 0 if outcome["entered"] else 1


@app.command()
def participants(
    ctx: typer.Context,
    flow: Annotated[str, typer.Argument(help="The flow's name.", show_default=False)],
    status: Annotated[
        Optional[Status],  # noqa: UP045
        typer.Option("--status", help="Only participants with this status."),
    ] = None,
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """A flow's participants: e-mail, company, registered, status, step, last mailing."""
    from flowctl.operate.running import participant_list

    with open_store(ctx, store, create=False) as st:
        rows = participant_list(st, flow, status.value if status else None, now=clock.now())
    columns = (
        "e-mail",
        "company",
        "registered",
        "status",
        "current step",
        "last mailing",
        "last mailing date",
        "last mailing status",
    )
    keys = (
        "email",
        "company",
        "registered",
        "status",
        "current_step",
        "last_mailing",
        "last_mailing_date",
        "last_mailing_status",
    )
    return print_rows(rows, output, keys, columns=columns, empty="no participants")


@app.command()
def history(
    ctx: typer.Context,
    contact: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--contact", help="A contact's step log (an e-mail or id:VALUE)."),
    ] = None,
    flow: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--flow", help="A flow's step log."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many lines.")] = 100,
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """The step log, newest first."""
    from flowctl.errors import UsageError
    from flowctl.operate.running import history_list

    if (contact is None) == (flow is None):
        raise UsageError("give exactly one of --contact and --flow")
    with open_store(ctx, store, create=False) as st:
        rows = history_list(st, contact=contact, flow=flow, limit=limit)
    keys = ("at", "flow", "contact", "step", "type", "outcome", "detail")
    return print_rows(rows, output, keys, empty="no history")


@app.command()
def messages(
    ctx: typer.Context,
    flow: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--flow", help="Only this flow's messages."),
    ] = None,
    status: Annotated[
        Optional[MessageStatus],  # noqa: UP045
        typer.Option("--status", help="Only messages with this status."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 1000,
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """The outbox: messages queued, sent, failed and canceled, newest first."""
    from flowctl.operate.running import mailing_totals, message_list

    with open_store(ctx, store, create=False) as st:
        rows = message_list(st, flow=flow, status=status.value if status else None, limit=limit)
    keys = (
        "id",
        "flow",
        "step",
        "contact",
        "channel",
        "content",
        "status",
        "queued_at",
        "sent_at",
        "opened",
        "clicked",
    )
    print_rows(rows, output, keys, empty="no messages")
    if output == TableFormat.table and rows:
        totals = [{"mailing": name, **figures} for name, figures in mailing_totals(rows).items()]
        print_rows(totals, output, ("mailing", "sent", "opened", "clicked"), empty="")
    return 0


def _tick(text: str) -> timedelta:
    """A tick: a duration (``1s``, ``2m``), or seconds with a fraction (``0.05s``)."""
    from flowctl.errors import InvalidValue, UsageError
    from flowctl.timeutil import parse_duration

    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", text.strip())
    try:
        every = timedelta(seconds=float(match.group(1))) if match else parse_duration(text)
    except InvalidValue as exc:
        raise UsageError(f"--tick {text!r}: {exc.message}", hint="e.g. --tick 1s") from exc
    if every <= timedelta(0):
        raise UsageError("--tick must be longer than zero", hint="e.g. --tick 1s")
    return every
