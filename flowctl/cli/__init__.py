"""The command line: thin Typer commands over the library.

Each command parses its arguments, calls a library function and renders the
result. :func:`main` maps errors to exit codes: 0 success, 1 problems found or
refused, 2 usage error, 3 internal error. A user mistake never shows a
traceback.
"""

from __future__ import annotations

import sys
import traceback
from enum import Enum
from typing import Annotated, Optional

import typer

from flowctl.cli.common import Globals, StoreOpt
from flowctl.errors import FlowctlError

app = typer.Typer(
    name="flowctl",
    help="Marketing-automation flows as code: validate, simulate, test and run them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _options(
    ctx: typer.Context,
    store: StoreOpt = None,
    config: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(
            "--config",
            help="Channels and daemon settings (env FLOWCTL_CONFIG; default: flowctl.toml "
            "if present)",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option(
            "-o",
            "--output",
            help="Output format (json, …) for whichever command prints data; its own -o wins.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Marketing-automation flows as code: validate, simulate, test and run them."""
    ctx.obj = Globals(store=store, config=config)
    if output is not None:
        ctx.default_map = _default_everywhere(ctx.command, "output", output)


def _default_everywhere(command: object, name: str, value: str) -> dict[str, object]:
    """A Click ``default_map`` giving the option ``name`` of every command below
    ``command`` the default ``value`` (a command without that format says so)."""
    commands = getattr(command, "commands", None)
    if commands is None:
        params = [p for p in getattr(command, "params", ()) if p.name == name]
        return {name: _fitting(params[0], value)} if params else {}
    return {key: _default_everywhere(sub, name, value) for key, sub in commands.items()}


def _fitting(param: object, value: str) -> str:
    """``value`` as the option spells it: ``table`` and ``text`` stand for each other."""
    kind = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if not (isinstance(kind, type) and issubclass(kind, Enum)):
        return value
    choices = {str(member.value) for member in kind}
    same = {"table": "text", "text": "table"}.get(value)
    return same if value not in choices and same in choices else value


# Command modules register themselves on ``app``.
from flowctl.cli import (  # noqa: E402, F401
    authoring,
    intake,
    operating,
    report,
    running,
    serve,
    simulation,
    store_cmd,
    views,
)


def _report(exc: FlowctlError) -> None:
    """One clear message on stderr (with the diagnostics, for invalid files)."""
    from flowctl.lint import InvalidDocuments

    if isinstance(exc, InvalidDocuments):
        from flowctl.render.diagnostics import render_text

        typer.echo(render_text(exc.result), err=True, nl=False)
    typer.echo(f"error: {exc}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return (or exit with) its exit code."""
    try:
        code = app(args=argv, standalone_mode=False, prog_name="flowctl")
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        code = 1
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        code = int(getattr(exc, "exit_code", 2) or 2)
    except FlowctlError as exc:
        _report(exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        code = 130
    except BrokenPipeError:
        code = 0
    except Exception:
        traceback.print_exc()
        typer.echo("internal error: this is a bug in flowctl; please report it", err=True)
        code = 3
    code = code if isinstance(code, int) else 0
    if argv is None:
        sys.exit(code)
    return code
