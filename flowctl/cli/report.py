"""``flowctl report`` (a flow's figures: terminal, JSON or an HTML page) and ``flowctl why``.

Thin commands over :mod:`flowctl.report` and :mod:`flowctl.operate.why`.
Everything heavy is imported inside the commands, so registering them costs
``flowctl validate`` nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

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
    write_file,
)

if TYPE_CHECKING:
    from flowctl.operate.why import Why

DayOpt = Optional[str]  # noqa: UP045 - typer needs Optional on Python 3.11


@app.command()
def report(
    ctx: typer.Context,
    flow: Annotated[str, typer.Argument(help="The flow's name.", show_default=False)],
    since: Annotated[
        DayOpt,
        typer.Option(help="First day of the period: 2026-03-02, an instant, or 7d (days ago)."),
    ] = None,
    until: Annotated[
        DayOpt, typer.Option(help="Last day of the period (included), written like --since.")
    ] = None,
    html: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--html",
            help="Write one self-contained HTML page with charts to this file (- for stdout).",
            dir_okay=False,
        ),
    ] = None,
    output: OutputOpt = TableFormat.table,
    store: StoreOpt = None,
) -> int:
    """How a flow performs: success rate, entries per day, the per-step funnel, mailings."""
    from flowctl.operate.rights import VIEW, authorize
    from flowctl.report import build_report, parse_day, report_json

    now = clock.now()
    first = parse_day(since, now, "--since") if since else None
    last = parse_day(until, now, "--until") if until else None
    with open_store(ctx, store, create=False) as st:
        authorize(st, VIEW)
        figures = build_report(st, flow, now=now, since=first, until=last)
    if html is not None:
        from flowctl.report.html import render_html

        page = render_html(figures)
        if str(html) == "-":
            sys.stdout.write(page)
            return 0
        write_file(html, page, "report")
        note = f"report of flow/{flow} written to {html.resolve()}"
        typer.echo(note, err=output != TableFormat.table)
    if output != TableFormat.table:
        print_data(output, report_json(figures))
    elif html is None:
        from flowctl.report.terminal import render

        render(figures, console())
    return 0


@app.command()
def why(
    ctx: typer.Context,
    flow: Annotated[str, typer.Argument(help="The flow's name.", show_default=False)],
    contact: Annotated[str, typer.Option("--contact", help="An e-mail address or id:VALUE.")],
    output: Annotated[DataFormat, typer.Option("-o", "--output")] = DataFormat.text,
    store: StoreOpt = None,
) -> int:
    """Why a contact is or is not in a flow: each trigger event, the filter, reentry, state."""
    from flowctl.operate.why import explain

    with open_store(ctx, store, create=False) as st:
        answer = explain(st, flow, contact, now=clock.now())
    if output != DataFormat.text:
        print_data(output, why_json(answer))
    else:
        _print_why(answer)
    return 0


def why_json(answer: Why) -> dict[str, Any]:
    """``why -o json``: the verdict, the flow's rules, each event and the participations;
    instants in the flow's time zone."""
    from flowctl.timeutil import isoformat

    def iso(moment: Any) -> str | None:
        return None if moment is None else isoformat(moment.astimezone(answer.zone))

    return {
        "flow": answer.flow,
        "contact": answer.contact,
        "verdict": answer.verdict,
        "summary": answer.summary,
        "state": answer.state,
        "version": answer.version,
        "activations": [
            {"started_at": iso(a.started_at), "ended_at": iso(a.ended_at)}
            for a in answer.activations
        ],
        "triggers": list(answer.triggers),
        "filter": answer.filter,
        "filter_now": None
        if answer.filter is None
        else {"holds": answer.filter_failing is None, "failing": answer.filter_failing},
        "reentry": answer.reentry,
        "reentry_after": answer.reentry_after,
        "events": [
            {
                "type": e.type,
                "at": iso(e.at),
                "id": e.id,
                "data": dict(e.data),
                "matched": e.matched,
                "decision": e.decision,
                "message": e.message,
                "failing": e.failing,
                "participant": e.participant,
            }
            for e in answer.events
        ],
        "other_events": answer.other_events,
        "participations": [_participation(p, iso) for p in answer.participations],
        "elsewhere": [_participation(p, iso) for p in answer.elsewhere],
    }


def _participation(p: Any, iso: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "flow": p.flow,
        "version": p.version,
        "status": p.status,
        "step": p.step,
        "entered_at": iso(p.entered_at),
        "ended_at": iso(p.ended_at),
        "reason": p.reason,
        "succeeded": p.succeeded_at is not None,
    }


def _print_why(answer: Why) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    data = why_json(answer)
    out = console()
    active = next((a for a in data["activations"] if a["ended_at"] is None), None)
    since = f" since {active['started_at']}" if active and answer.state != "draft" else ""
    out.print(
        f"[bold]flow/{escape(answer.flow)}[/bold]: {answer.state}{since}, "
        f"version {answer.version}; contact {escape(answer.contact)}"
    )
    colour = "green" if answer.verdict == "participant" else "yellow"
    out.print(f"[bold {colour}]{escape(answer.summary)}[/]\n")
    out.print(f"[dim]Triggers[/dim]  {escape(' · '.join(answer.triggers))}")
    if answer.filter is not None:
        now = "true" if answer.filter_failing is None else f"false: {answer.filter_failing}"
        out.print(f"[dim]Filter[/dim]    {escape(answer.filter)} [dim](now: {escape(now)})[/dim]")
    after = f", after {answer.reentry_after}" if answer.reentry_after else ""
    out.print(f"[dim]Reentry[/dim]   {answer.reentry}{after}")
    out.print(
        f"\n[bold]Events that could enter it[/bold] [dim]({len(answer.events)}; "
        f"{answer.other_events} other event{'' if answer.other_events == 1 else 's'})[/dim]"
    )
    if answer.events:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for column in ("AT", "EVENT", "MATCHED", "RESULT", "WHY"):
            table.add_column(column, overflow="fold")
        for e in data["events"]:
            params = " ".join(f"{k}={v}" for k, v in e["data"].items())
            table.add_row(
                e["at"],
                escape(f"{e['type']} {params}".strip()),
                "yes" if e["matched"] else "no",
                e["decision"],
                escape(e["message"]),
            )
        out.print(table)
    out.print("\n[bold]Where the contact is now[/bold]")
    rows = data["participations"] + data["elsewhere"]
    if not rows:
        out.print("  in no flow")
    for p in rows:
        where = (
            f" at step {p['step']}" if p["step"] and p["status"] in ("active", "waiting") else ""
        )
        why_ = f" ({p['reason']})" if p["reason"] else ""
        out.print(
            f"  - {escape(p['flow'])} v{p['version']}: {p['status']}{where}{why_}, "
            f"entered {p['entered_at']}"
        )
