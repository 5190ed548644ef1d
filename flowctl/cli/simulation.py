"""Commands that run flows without a store: simulate, test, graph."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from flowctl import clock
from flowctl.cli import app
from flowctl.cli.common import (
    DataFormat,
    console,
    input_file,
    load_config,
    print_data,
    progress,
    write_file,
)
from flowctl.errors import InputError, UsageError


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


@app.command()
def simulate(
    ctx: typer.Context,
    flow_file: Annotated[Path, typer.Argument(help="The flow file.")],
    more_content: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Argument(
            metavar="[CONTENT...]",
            help="More content files (as in --content a.yaml b.yaml).",
            show_default=False,
        ),
    ] = None,
    participant: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(help="A contact: a JSON or YAML file, or inline JSON."),
    ] = None,
    participants: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="A population (CSV with a header, or JSONL): forecast it."),
    ] = None,
    events: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Events: a YAML/JSON list or JSONL with type, at (+2d), data."),
    ] = None,
    start: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Start instant (default: now)."),
    ] = None,
    horizon: Annotated[str, typer.Option(help="How far to run the clock.")] = "400d",
    content: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option(help="Content files or folders, to render messages (repeatable)."),
    ] = None,
    output: Annotated[DataFormat, typer.Option("-o", "--output")] = DataFormat.text,
) -> int:
    """Run one contact (or forecast a population) through a flow on a virtual clock."""
    from flowctl import simulate as sim
    from flowctl.engine import compile_flow

    if (participant is None) == (participants is None):
        raise UsageError("give exactly one of --participant (a contact) or --participants (a file)")
    flow, docs = _load(flow_file, [*(content or []), *(more_content or [])])
    program = compile_flow(flow)
    begin, span = _clock(start, horizon, program.zone)
    context = _context(ctx)
    if participants is not None:
        return _forecast(program, participants, begin, span, output, context)
    result = sim.simulate(
        program,
        _read_contact(participant or ""),
        _read_events(events) if events else None,
        begin,
        span,
        [d for d in docs if d.get("kind") in ("Mailing", "Sms")],
        context=context,
    )
    if output != DataFormat.text:
        print_data(output, result.to_dict())
    else:
        from flowctl.render.simulation import print_simulation

        print_simulation(console(), result, program)
    return 0


def _context(ctx: typer.Context) -> Any:
    """What the engine is given as the daemon gives it: the frequency cap (``[limits]``)."""
    from flowctl.engine import Context
    from flowctl.templating import render

    return Context(limits=load_config(ctx).limits, render=render)


def _forecast(
    program: Any, path: Path, begin: Any, horizon: Any, output: DataFormat, context: Any
) -> int:
    from flowctl import simulate as sim
    from flowctl.operate.intake import contact_records

    input_file(path, f"--participants {path}", "give a CSV (with a header) or JSONL of contacts")
    records = contact_records(path)  # a CSV with neither an id nor an email column stops here
    lines: list[int] = []
    unreadable: list[tuple[int, str]] = []

    def contacts() -> Any:
        for record in records:
            if record.data is None:
                unreadable.append((record.line, record.error or "unreadable"))
            else:
                lines.append(record.line)
                yield record.data

    with progress("forecast") as advance:
        result = sim.forecast(
            program, contacts(), begin, horizon, context=context, progress=advance
        )
    bad = sorted(unreadable + [(lines[row - 1], msg) for row, msg in result.rejected])
    data = result.to_dict()
    data["rejected"] = [{"line": line, "message": message} for line, message in bad]
    if output != DataFormat.text:
        print_data(output, data)
    else:
        from flowctl.render.simulation import print_forecast

        print_forecast(console(), result)
    for line, message in bad:
        typer.echo(f"{path}:{line}: skipped: {message}", err=True)
    return 0


@app.command("test")
def flow_test(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="FlowTest files or folders.")],
    junit: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--junit", help="Also write JUnit XML here, for CI."),
    ] = None,
    output: Annotated[DataFormat, typer.Option("-o", "--output")] = DataFormat.text,
) -> int:
    """Run FlowTest documents: pass or fail per case, with a diff of expected and actual."""
    from flowctl.load.discover import expand_paths
    from flowctl.render.simulation import flow_test_json, junit_xml, print_test_results
    from flowctl.simulate import run_flow_test_file

    now = clock.fixed()  # a bad FLOWCTL_NOW stops here, once
    context = _context(ctx)
    cases = [
        (str(file), case)
        for file in expand_paths(paths)
        for case in run_flow_test_file(file, now=now, context=context)
    ]
    if not cases:
        raise InputError("no FlowTest documents found in the paths given")
    if junit is not None:
        write_file(junit, junit_xml(cases), "JUnit XML")
    if output != DataFormat.text:
        print_data(output, flow_test_json(cases))
    else:
        print_test_results(console(), cases)
    return 0 if all(case.passed for _, case in cases) else 1


@app.command()
def graph(
    flow_file: Annotated[Path, typer.Argument(help="The flow file.")],
    output: Annotated[GraphFormat, typer.Option("-o", "--output")] = GraphFormat.mermaid,
) -> int:
    """Draw a flow: triggers, steps, labelled branches, goto edges, success and exit."""
    from flowctl.graph import to_dot, to_mermaid

    flow, _ = _load(flow_file, [])
    render = to_mermaid if output == GraphFormat.mermaid else to_dot
    sys.stdout.write(render(flow))
    return 0


def _load(flow_file: Path, content: list[Path]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one Flow of ``flow_file``, and every document of it and of the content
    given (validated together). A file or folder with no Flow, or several, is refused."""
    from flowctl.lint import load_valid
    from flowctl.load.discover import expand_paths

    docs, _ = load_valid([flow_file, *content])
    own = {str(p) for p in expand_paths([flow_file])}
    flows = [d for d in docs if d.kind == "Flow" and d.source.path in own]
    if len(flows) != 1:
        names = ", ".join(str(d.name) for d in flows)
        raise UsageError(
            f"{flow_file} holds no Flow"
            if not flows
            else f"{flow_file} holds {len(flows)} flows ({names})",
            hint="give the file of one flow; content can be in it or come with --content",
        )
    return flows[0].data, [d.data for d in docs]


def _clock(start: str | None, horizon: str, zone: Any) -> tuple[Any, Any]:
    """``--start`` and ``--horizon`` read (a bad one is a usage error)."""
    from flowctl.simulate.inputs import parse_span, parse_start

    try:
        begin = parse_start(start, zone) if start else clock.now()
        return begin, parse_span(horizon, "horizon")
    except InputError as exc:
        raise UsageError(f"--{exc.where}: {exc.message}") from exc


def _read_contact(value: str) -> Any:
    """A contact from inline JSON, or from a JSON/YAML file."""
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"--participant is not valid JSON: {exc.msg} at column {exc.colno}",
                hint='quote it in the shell: --participant \'{"email": "ann@example.com"}\'',
            ) from exc
    hint = 'give a contact file, or inline JSON such as {"email": "ann@example.com"}'
    return _read_data(input_file(value, f"--participant {value}", hint))


def _read_events(path: Path) -> list[Any]:
    """Events from a YAML/JSON list, or JSONL (``.jsonl``/``.ndjson``)."""
    input_file(path, f"--events {path}", "give a YAML/JSON list of events, or JSONL")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        from flowctl.load.records import read_records

        events = []
        for record in read_records(path):
            if record.data is None:
                raise InputError(f"{record.error}", where=f"{path}:{record.line}")
            events.append(record.data)
        return events
    data = _read_data(path)
    if not isinstance(data, list):
        raise InputError(
            "the events file must hold a list of events",
            where=str(path),
            hint="write a YAML list: - {type: tag_added, at: +1d, data: {tag: vip}}",
        )
    return data


def _read_data(path: Path) -> Any:
    """One YAML (or JSON) document from a file."""
    from flowctl.load import LoadFailure, load_source, read_source

    source = read_source(path)
    if isinstance(source, LoadFailure):
        raise InputError(source.message, where=str(path))
    if not source.text.strip():
        raise InputError("the file is empty", where=str(path))
    docs, failures = load_source(source)
    if failures:
        first = failures[0]
        raise InputError(first.message, where=f"{path}:{first.line}:{first.column}")
    if len(docs) != 1:
        raise InputError(f"expected one document, found {len(docs)}", where=str(path))
    return docs[0].data
