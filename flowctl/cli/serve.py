"""``flowctl serve``: the HTTP server alone, beside a ``flowctl daemon`` elsewhere."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from flowctl.cli import app
from flowctl.cli.common import StoreOpt, globals_of, load_config, log_to_stderr


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.11
        typer.Option("--host", help="Address to listen on (default: \\[http] host, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            "--port", help="Port to listen on (default: \\[http] port, 8080).", min=0, max=65535
        ),
    ] = None,
    store: StoreOpt = None,
) -> int:
    """Serve HTTP: events and forms in, open and click tracking, one-click unsubscribe.

    Needs \\[http] token_env and secret_env in flowctl.toml, both variables set.
    Runs until SIGTERM or SIGINT; /openapi.json describes the endpoints.
    """
    from flowctl.http.server import listen, run, settings_for
    from flowctl.store import store_url

    log_to_stderr()
    url = store_url(store or globals_of(ctx).store)
    settings = settings_for(load_config(ctx), url, host=host, port=port)
    run(settings, listen(settings.http.host, settings.http.port))
    return 0
