"""The HTTP server on a loopback port, driven with real HTTP requests.

:func:`web` binds 127.0.0.1 on a free port, writes ``flowctl.toml`` whose
``[http] base_url`` is that address (so the links the daemon renders lead
back to this server), and serves the test's store from a thread with
uvicorn, as ``flowctl daemon --http`` does. Requests go through
``http.client``: nothing is mocked between the test and the socket.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from flowctl.config import load_config
from flowctl.http.server import Background, listen, settings_for
from tests.daemon.conftest import Flowctl, flowctl, webhooks

__all__ = ["Web", "flowctl", "web", "webhooks"]

TOKEN = "test-token-0123456789abcdef"
SECRET = "test-secret-0123456789abcdef"
THANKS = "https://www.example.com/thanks/"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Web:
    """The running server: its address, and a client that speaks real HTTP to it."""

    host: str
    port: int
    base: str
    token: str = TOKEN
    auth: dict[str, str] = field(default_factory=lambda: {"Authorization": f"Bearer {TOKEN}"})

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request on a fresh connection and read the whole answer."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            data = body.encode() if isinstance(body, str) else body
            conn.request(method, path, body=data, headers=dict(headers or {}))
            answer = conn.getresponse()
            found = {k.lower(): v for k, v in answer.getheaders()}
            return Reply(answer.status, found, answer.read())
        finally:
            conn.close()

    def events(self, payload: Any, **headers: str) -> Reply:
        """``POST /v1/events`` with the bearer token and JSON ``payload``."""
        sent = {**self.auth, "Content-Type": "application/json", **headers}
        return self.request("POST", "/v1/events", json.dumps(payload), sent)

    def form(
        self, form: str, body: str, content_type: str = "application/x-www-form-urlencoded"
    ) -> Reply:
        """``POST /v1/forms/FORM``."""
        return self.request("POST", f"/v1/forms/{form}", body, {"Content-Type": content_type})

    def path_of(self, url: str) -> str:
        """The path of a URL on this server (a tracked link, the pixel, an unsubscribe)."""
        assert url.startswith(self.base), url
        return url[len(self.base) :]


def http_config(base: str, **extra: str) -> str:
    """``[http]`` for a server at ``base``, tokens from the test's environment."""
    lines = [
        "[http]",
        f'base_url = "{base}"',
        'token_env = "FLOWCTL_HTTP_TOKEN"',
        'secret_env = "FLOWCTL_HTTP_SECRET"',
        f'redirects = ["{THANKS}", "https://www.example.com/exact"]',
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def web(flowctl: Flowctl, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    """The server on a free loopback port over the ``flowctl`` fixture's store."""
    monkeypatch.setenv("FLOWCTL_HTTP_TOKEN", TOKEN)
    monkeypatch.setenv("FLOWCTL_HTTP_SECRET", SECRET)
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    flowctl.configure(http_config(base))
    settings = settings_for(load_config(flowctl.config), str(flowctl.db))
    server = Background(settings, sock).start()
    try:
        yield Web("127.0.0.1", port, base)
    finally:
        server.stop()


def links(text: str) -> list[str]:
    """The URLs in a rendered text or HTML, in order (without the punctuation after them)."""
    return [u.rstrip(".,") for u in re.findall(r"""https?://[^\s"'<>]+""", text)]
