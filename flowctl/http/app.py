"""The Starlette application: routes, error answers, and the store's lifetime.

:func:`create_app` builds one app per server. Its store thread
(:class:`~flowctl.http.storethread.StoreThread`) opens when the app starts
(ASGI lifespan) and closes, after the jobs queued, when it stops. Errors
are JSON ``{"error", "hint"?}``: a :class:`~flowctl.http.reading.Problem`
with its status, a refused right ``403``, a store that cannot be used
``503``; an unexpected exception is logged and answered ``500``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowctl.errors import FlowctlError, Refused
from flowctl.http import openapi
from flowctl.http.context import Context, Settings, context
from flowctl.http.intake import post_events, post_form
from flowctl.http.metrics import CONTENT_TYPE, Metrics, store_figures
from flowctl.http.reading import Problem, check_bearer, json_response, problem_response
from flowctl.http.storethread import StoreThread
from flowctl.http.tokens import Signer
from flowctl.http.track import click, open_pixel, unsubscribe, unsubscribe_page

log = logging.getLogger("flowctl.http")


def create_app(settings: Settings, metrics: Metrics | None = None) -> Starlette:
    """The server for ``settings``; ``metrics`` may be shared with the daemon's ticks."""
    ctx = Context(
        settings, Signer(settings.secret), StoreThread(settings.store_url), metrics or Metrics()
    )
    spec = openapi.document(settings.http.base_url)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx.store.start()
        try:
            yield
        finally:
            ctx.store.close()

    async def openapi_json(request: Request) -> Response:
        return json_response(200, spec)

    routes = [
        Route("/v1/events", post_events, methods=["POST"]),
        Route("/v1/forms/{form}", post_form, methods=["POST"]),
        Route("/t/o/{token}", open_pixel, methods=["GET"]),
        Route("/t/c/{token}", click, methods=["GET"]),
        Route("/u/{token}", unsubscribe_page, methods=["GET"]),
        Route("/u/{token}", unsubscribe, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            Problem: _problem,
            HTTPException: _http_error,
            Refused: _refused,
            FlowctlError: _unavailable,
            Exception: _internal,
        },
    )
    app.state.flowctl = ctx
    return app


async def healthz(request: Request) -> Response:
    """``{"status": "ok"}`` once the store has answered."""
    await context(request).store.run(lambda store: store.schema_version)
    return json_response(200, {"status": "ok"})


async def metrics_text(request: Request) -> Response:
    """The Prometheus exposition (bearer token required: it names flows)."""
    ctx = context(request)
    check_bearer(request, ctx.settings.tokens)
    figures = await ctx.store.run(store_figures)
    return Response(ctx.metrics.render(figures), media_type=CONTENT_TYPE)


async def _problem(request: Request, exc: Any) -> Response:
    return problem_response(exc)


async def _http_error(request: Request, exc: Any) -> Response:
    status = int(exc.status_code)
    message = "no such endpoint" if status == 404 else str(exc.detail)
    return problem_response(Problem(status, message, headers=exc.headers))


async def _refused(request: Request, exc: Any) -> Response:
    return problem_response(Problem(403, exc.message, hint=exc.hint))


async def _unavailable(request: Request, exc: Any) -> Response:
    log.warning("store unavailable: %s", exc)
    return problem_response(Problem(503, f"the store cannot be used: {exc.message}"))


async def _internal(request: Request, exc: Any) -> Response:
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(Problem(500, "internal error: this is a bug in flowctl"))
