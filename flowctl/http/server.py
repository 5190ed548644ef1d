"""Running the app under uvicorn: alone (``flowctl serve``) or beside the daemon.

:func:`settings_for` reads ``[http]`` and its secrets and refuses to go on
without them; :func:`listen` binds the socket first, so a port in use is a
clear error rather than a log line. :class:`Background` serves from a thread
of its own until :meth:`~Background.stop`: beside the daemon
(``flowctl daemon --http``), in the tests, and for :func:`run`, which waits
for SIGINT or SIGTERM on the main thread (uvicorn's own handlers would end
the process by the signal rather than with exit code 0).
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
import time
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING

from flowctl.config import Config, HttpConfig
from flowctl.errors import FlowctlError, UsageError
from flowctl.http.context import Settings
from flowctl.http.metrics import Histogram, Metrics, TimedWorker
from flowctl.http.tokens import api_tokens, signing_secret
from flowctl.operate.rights import INTAKE, authorize, current_user
from flowctl.store import open_store

if TYPE_CHECKING:
    import uvicorn

    from flowctl.daemon import Daemon

log = logging.getLogger("flowctl.http")

STARTUP_TIMEOUT = 30.0
"""Seconds :class:`Background` waits for the server to accept connections."""

SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits (Python's default: 0.005).

The store thread releases the GIL in every SQLite call and must win it back
from the event loop's thread; at the default, each of those waits can take
5 ms, and a request's dozen of them add up: p99 latency at 1,000 events/s
was 30-80 ms, and is 15-20 ms at 0.5 ms (``bench/http.py``)."""


def settings_for(
    config: Config, store_url: str, *, host: str | None = None, port: int | None = None
) -> Settings:
    """The server's settings: ``[http]`` (defaults when absent) with ``host``/``port``
    overriding it, the secrets read, the store checked: the acting user must be allowed
    to record events. Raises :class:`~flowctl.errors.FlowctlError` saying what is missing."""
    http = config.http or HttpConfig()
    http = replace(http, host=host or http.host, port=http.port if port is None else port)
    settings = Settings(store_url, http, signing_secret(http), api_tokens(http), current_user())
    with open_store(store_url) as store:
        authorize(store, INTAKE, settings.user)
    return settings


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, so that asyncio sets TCP_NODELAY on the connections it accepts
    # (it checks the protocol); with Nagle on, each answer waits ~40 ms for an ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port, or [http] host/port in flowctl.toml",
        ) from exc
    sock.set_inheritable(True)
    return sock


def run(settings: Settings, sock: socket.socket) -> None:
    """Serve on ``sock`` until SIGINT or SIGTERM (call from the main thread).

    The signal handlers only set a flag, as the daemon's do; the server then
    finishes the requests under way and stops, and the command exits 0.
    """
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        server = Background(settings, sock).start()
        try:
            stopped.wait()
        finally:
            server.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Background:
    """The server in a thread of its own; :meth:`stop` ends it."""

    def __init__(self, settings: Settings, sock: socket.socket, metrics: Metrics | None = None):
        self.sock = sock
        self.address = _address(sock)
        self._server = _server(settings, metrics or Metrics())
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="flowctl-http", daemon=True
        )

    def start(self) -> Background:
        """Start serving; returns once connections are accepted."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise FlowctlError(f"the HTTP server on {self.address} did not start")
            time.sleep(0.01)
        log.info("serving http://%s", self.address)
        return self

    def stop(self) -> None:
        """Stop accepting, finish the requests under way, close the store."""
        self._server.should_exit = True
        self._thread.join()
        self.sock.close()


def beside(daemon: Daemon, config: Config, store_url: str) -> Background:
    """Serve HTTP from a thread of the daemon's process, timing its ticks for ``/metrics``."""
    settings = settings_for(config, store_url)
    sys.setswitchinterval(SWITCH_INTERVAL)
    ticks = Histogram()
    daemon.worker = TimedWorker(
        daemon.store,
        ticks,
        batch_size=config.daemon.batch_size,
        limits=config.limits,
    )
    sock = listen(settings.http.host, settings.http.port)
    return Background(settings, sock, Metrics(ticks=ticks)).start()


def _server(settings: Settings, metrics: Metrics) -> uvicorn.Server:
    import uvicorn

    from flowctl.http.app import create_app

    config = uvicorn.Config(
        create_app(settings, metrics),
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    return uvicorn.Server(config)


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
