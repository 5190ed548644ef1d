"""Commands that change what the store holds: apply, diff, rollback, the lifecycle, delete."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from flowctl import clock
from flowctl.cli import app
from flowctl.cli.common import (
    OutputOpt,
    StoreOpt,
    TableFormat,
    YesOpt,
    confirm,
    load_config,
    open_store,
    print_data,
)
from flowctl.errors import UsageError

if TYPE_CHECKING:
    from flowctl.operate.apply import Change
    from flowctl.operate.lifecycle import Transition

FlowArg = Annotated[str, typer.Argument(help="The flow's name.", show_default=False)]


@app.command()
def apply(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Flow and content files or directories.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """Validate, then create or update flows and content (a changed flow becomes a new version)."""
    from flowctl.operate.apply import apply as run_apply
    from flowctl.render.diagnostics import render_text

    with open_store(ctx, store, create=not dry_run) as st:
        applied = run_apply(st, paths, now=clock.now(), dry_run=dry_run)
    if applied.checked.warning_count:
        typer.echo(render_text(applied.checked), err=True, nl=False)
    if output != TableFormat.table:
        print_data(output, [c.to_json() for c in applied.changes])
        return 0
    suffix = " (dry run)" if dry_run else ""
    for change in applied.changes:
        typer.echo(f"{change.ref} {change.result}{suffix}")
        _echo_participants(change)
    if applied.skipped:
        count = len(applied.skipped)
        typer.echo(
            f"{count} FlowTest document{'s' * (count != 1)} not stored "
            "(they are run with `flowctl test`)",
            err=True,
        )
    return 0


@app.command()
def diff(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Flow and content files or directories.")],
    store: StoreOpt = None,
) -> int:
    """Unified diff of the stored versions against the files: exit 0 same, 1 changed, 2 error."""
    from flowctl.lint import InvalidDocuments
    from flowctl.operate.apply import diff as run_diff

    with open_store(ctx, store, create=False) as st:
        try:
            diffs = run_diff(st, paths)
        except InvalidDocuments as exc:
            exc.exit_code = 2
            raise
    for item in diffs:
        sys.stdout.write(item.text)
    return 1 if any(d.status != "same" for d in diffs) else 0


@app.command()
def rollback(
    ctx: typer.Context,
    flow: FlowArg,
    to: Annotated[int, typer.Option("--to", help="The version to make current again.")],
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """Make an earlier version of a flow current again (as a new version)."""
    from flowctl.operate.apply import rollback as run_rollback

    with open_store(ctx, store, create=False) as st:
        change = run_rollback(st, flow, to, now=clock.now())
    if output != TableFormat.table:
        print_data(output, change.to_json())
    elif change.result == "unchanged":
        typer.echo(f"{change.ref} unchanged (version {to} is what version {change.version} holds)")
    else:
        typer.echo(f"{change.ref} rolled back to version {to} as version {change.version}")
        _echo_participants(change)
    return 0


def _echo_participants(change: Change) -> None:
    """What a new version of a running flow does to its participants (spec §9)."""
    if change.migrate or change.step_removed:
        typer.echo(
            f"  {change.migrate} participants go on in version {change.version}, "
            f"{change.step_removed} exit (their step was removed)"
        )
    if change.keep:
        typer.echo(f"  {change.keep} participants finish on their version (on_update: keep)")


@app.command()
def activate(
    ctx: typer.Context,
    flow: FlowArg,
    yes: YesOpt = False,
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """Start entering participants from triggers that occur from now on."""
    from flowctl.operate import lifecycle

    config = load_config(ctx)
    with open_store(ctx, store, create=False) as st:
        row = st.flow(flow)
        if row is not None and row.state != "active" and sys.stdin.isatty():
            problems = lifecycle.activation_problems(st, flow, sms_configured=bool(config.sms))
            if not problems:
                confirm(f"Activate flow/{flow}? Triggers from now on will enter it.", yes)
        done = lifecycle.activate(st, flow, sms_configured=bool(config.sms), now=clock.now())
    return _report(done, "activated", output)


@app.command()
def pause(
    ctx: typer.Context, flow: FlowArg, store: StoreOpt = None, output: OutputOpt = TableFormat.table
) -> int:
    """Hold a flow: nothing of it runs; triggers are kept for the resume."""
    from flowctl.operate import lifecycle

    with open_store(ctx, store, create=False) as st:
        return _report(lifecycle.pause(st, flow, now=clock.now()), "paused", output)


@app.command()
def resume(
    ctx: typer.Context, flow: FlowArg, store: StoreOpt = None, output: OutputOpt = TableFormat.table
) -> int:
    """Run a paused flow again; what fell due during the pause runs first."""
    from flowctl.operate import lifecycle

    with open_store(ctx, store, create=False) as st:
        return _report(lifecycle.resume(st, flow, now=clock.now()), "resumed", output)


@app.command()
def deactivate(
    ctx: typer.Context,
    flow: FlowArg,
    cancel_scheduled: Annotated[
        bool,
        typer.Option(
            "--cancel-scheduled",
            help="Also end every participant now (status canceled) with its scheduled steps.",
        ),
    ] = False,
    yes: YesOpt = False,
    store: StoreOpt = None,
    output: OutputOpt = TableFormat.table,
) -> int:
    """Stop new participants; those inside finish, or are canceled with --cancel-scheduled."""
    from flowctl.operate import lifecycle

    with open_store(ctx, store, create=False) as st:
        impact = lifecycle.deactivation_impact(st, flow)
        fate = "will be canceled" if cancel_scheduled else "will go on to the end"
        if output == TableFormat.table:
            typer.echo(
                f"flow/{flow} has {impact.participants} active participants "
                f"({impact.scheduled} with a scheduled step); they {fate}.",
                err=True,
            )
        if impact.participants and sys.stdin.isatty():
            confirm(f"Deactivate flow/{flow}?", yes)
        done = lifecycle.deactivate(st, flow, cancel_scheduled=cancel_scheduled, now=clock.now())
    return _report(done, "deactivated", output)


@app.command()
def delete(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(help="A flow's name, or flow/NAME, mailing/NAME, sms/NAME.")
    ],
    store: StoreOpt = None,
) -> int:
    """Delete a flow with no active participants, or content no running flow uses."""
    from flowctl.operate import lifecycle

    kind, name = _kind_and_name(ref)
    with open_store(ctx, store, create=False) as st:
        lifecycle.delete(st, kind, name, now=clock.now())
    typer.echo(f"{kind.lower()}/{name} deleted")
    return 0


def _kind_and_name(ref: str) -> tuple[str, str]:
    kinds = {"flow": "Flow", "mailing": "Mailing", "sms": "Sms"}
    if "/" not in ref:
        return "Flow", ref
    prefix, _, name = ref.partition("/")
    if prefix.lower() not in kinds or not name:
        raise UsageError(
            f"'{ref}' names no flow or content",
            hint="write NAME, flow/NAME, mailing/NAME or sms/NAME",
        )
    return kinds[prefix.lower()], name


def _report(done: Transition, verb: str, output: TableFormat) -> int:
    if output != TableFormat.table:
        print_data(output, done.to_json())
        return 0
    if done.changed:
        typer.echo(f"flow/{done.flow} {verb}")
    else:
        typer.echo(f"flow/{done.flow} is {done.after} already; nothing changed")
    if done.canceled or done.messages_canceled:
        typer.echo(
            f"  {done.canceled} participants and {done.messages_canceled} unsent messages canceled"
        )
    for warning in done.warnings:
        typer.echo(f"warning: {warning}", err=True)
    return 0
