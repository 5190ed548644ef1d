"""Authoring commands: validate (lint), schema."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Optional

import typer

from flowctl.cli import app
from flowctl.cli.common import globals_of, open_store
from flowctl.errors import UsageError


class DiagnosticFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


class Kind(StrEnum):
    Flow = "Flow"
    Mailing = "Mailing"
    Sms = "Sms"
    FlowTest = "FlowTest"


@app.command()
def validate(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Files or directories (recursive); '-' reads stdin.")
    ],
    output: Annotated[
        DiagnosticFormat, typer.Option("-o", "--output", help="Output format.")
    ] = DiagnosticFormat.text,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="The least severity that makes the exit code 1.")
    ] = FailOn.error,
    stdin_filename: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option("--stdin-filename", help="The file name diagnostics use for '-'."),
    ] = None,
    store: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--store",
            help="Also find referenced flows and content in this store.",
            show_default=False,
        ),
    ] = None,
) -> int:
    """Check YAML syntax, the JSON Schema and the semantic rules of flows and content.

    References resolve among the files given together, and in the store when
    ``--store`` names one (before or after the command; FLOWCTL_STORE is not
    read, so that validation in CI needs no store).
    """
    from flowctl.lint import validate_paths
    from flowctl.load.documents import LoadFailure, decode_source
    from flowctl.render.diagnostics import REPORTERS

    stdin = None
    if "-" in paths:
        source = decode_source(sys.stdin.buffer.read(), stdin_filename or "<stdin>")
        if isinstance(source, LoadFailure):
            raise UsageError(f"{source.source.path}: {source.message}")
        stdin = source
    elif stdin_filename:
        raise UsageError("--stdin-filename goes with '-' (read the flow from standard input)")
    result = validate_paths([p for p in paths if p != "-"], stdin=stdin, known=_stored(ctx, store))
    if result.files == 0:  # folders without flows: a typo in CI should not pass unnoticed
        typer.echo(f"warning: no *.yaml or *.yml files in {', '.join(paths)}", err=True)
    sys.stdout.write(REPORTERS[output.value](result))
    return 1 if result.failed(fail_on.value) else 0


app.command("lint", help="Alias of validate.")(validate)


def _stored(ctx: typer.Context, given: str | None) -> list[tuple[str, str]]:
    """``(kind, name)`` of the documents in the store ``--store`` names; none without."""
    url = given or globals_of(ctx).store
    if not url:
        return []
    with open_store(ctx, url, create=False) as st:
        return [(d.kind, d.name) for d in st.documents()]


@app.command()
def schema(
    kind: Annotated[
        Optional[Kind],  # noqa: UP045
        typer.Option("--kind", help="Only the schema of this kind."),
    ] = None,
) -> int:
    """Print the JSON Schema (draft 2020-12) of flowctl documents."""
    from flowctl import schema as flow_schema

    if kind is None:
        sys.stdout.write(flow_schema.schema_text())
    else:
        sys.stdout.write(json.dumps(flow_schema.schema_for(kind.value), indent=2) + "\n")
    return 0
