"""What every request handler reaches: the settings, the signer, the store thread, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from starlette.requests import Request

from flowctl.config import HttpConfig
from flowctl.http.metrics import Metrics
from flowctl.http.storethread import StoreThread
from flowctl.http.tokens import Signer


@dataclass(frozen=True)
class Settings:
    """The server's settings with its secrets read (:func:`flowctl.http.server.settings_for`).

    ``tokens`` are the bearer tokens accepted; ``user`` acts for the server
    in rights checks and the audit log.
    """

    store_url: str
    http: HttpConfig
    secret: bytes = field(repr=False)
    tokens: tuple[str, ...] = field(repr=False)
    user: str


@dataclass
class Context:
    """One server's shared state (``app.state.flowctl``)."""

    settings: Settings
    signer: Signer
    store: StoreThread
    metrics: Metrics


def context(request: Request) -> Context:
    """The :class:`Context` of the app serving ``request``."""
    return cast(Context, request.app.state.flowctl)
