"""Real servers on loopback for the transports: SMTP (aiosmtpd) and HTTP.

Every server binds 127.0.0.1 and is stopped and closed at teardown, so no
socket outlives its test (pytest turns a ResourceWarning into an error).
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from flowctl.config import EmailConfig
from flowctl.store.records import QUEUED, OutMessage

USER, PASSWORD = "flows@example.com", "s3cret"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def out_message(channel: str = "email", **changes: Any) -> OutMessage:
    """An outbox row with sensible defaults for ``channel``."""
    defaults: dict[str, Any] = {
        "email": {"to": "ann@example.com", "payload": {"subject": "Hello", "text": "Hi Ann"}},
        "sms": {"to": "+4915112345678", "payload": {"text": "Your code is 1234"}},
        "webhook": {"to": "http://127.0.0.1:9/hook", "payload": {"body": {"event": "joined"}}},
    }[channel]
    values: dict[str, Any] = {
        "id": 1,
        "key": "1042:3:welcome:1",
        "flow": "onboarding",
        "step": "welcome",
        "cid": 7,
        "channel": channel,
        "content": "welcome-mail" if channel != "webhook" else None,
        "status": QUEUED,
        "attempts": 0,
        "queued_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        **defaults,
    }
    values.update(changes)
    return OutMessage(**values)


def email_config(port: int, **changes: Any) -> EmailConfig:
    """SMTP on 127.0.0.1:``port``, plain (no STARTTLS), short timeout."""
    values: dict[str, Any] = {
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "News <news@example.com>",
        "timeout": 5.0,
    }
    return EmailConfig(**(values | changes))


# --- SMTP ------------------------------------------------------------------


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: Any
    tls: bool
    login: bytes | None
    raw: bytes = b""
    """The message as it came over the wire."""


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts.

    ``answers`` maps a recipient to the RCPT reply to give it (e.g. ``550
    mailbox unavailable``); ``data_answer`` replaces the reply to DATA (the
    message still counts as received, in ``received``); ``mail_answers``
    holds the replies to the next MAIL commands (None: accept).
    """

    received: list[Received] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    data_answer: str | None = None
    mail_answers: list[str | None] = field(default_factory=list)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        answer = self.mail_answers.pop(0) if self.mail_answers else None
        if answer:
            return answer
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data if session.authenticated else None
        self.received.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                parsed,
                session.peer,
                session.ssl is not None,
                login if isinstance(login, bytes) else None,
                content,
            )
        )
        return self.data_answer or "250 OK"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: aiosmtpd answers 535 itself on failure
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@dataclass
class SmtpServer:
    """A running aiosmtpd server and its :class:`Mailbox`."""

    port: int
    mailbox: Mailbox
    controller: Controller
    running: bool = True

    def stop(self) -> None:
        """Stop the server, closing its connections; once is enough."""
        if self.running:
            self.running = False
            self.controller.stop()


@pytest.fixture
def start_smtp() -> Iterator[Callable[..., SmtpServer]]:
    """Start SMTP servers on 127.0.0.1: ``start_smtp(auth=False, tls=None, port=None, **kw)``.

    ``auth`` offers AUTH (without TLS) accepting :data:`USER` / :data:`PASSWORD`;
    ``tls`` is a server SSL context that enables STARTTLS; other keywords go
    to aiosmtpd's SMTP. All are stopped at teardown.
    """
    servers: list[SmtpServer] = []

    def start(
        *,
        auth: bool = False,
        tls: ssl.SSLContext | None = None,
        port: int | None = None,
        mailbox: Mailbox | None = None,
        **kwargs: Any,
    ) -> SmtpServer:
        if auth:
            kwargs |= {"authenticator": _authenticate, "auth_require_tls": False}
        if tls is not None:
            kwargs["tls_context"] = tls
        box = mailbox or Mailbox()
        for attempt in range(3):
            chosen = port or free_port()
            controller = Controller(
                box, hostname="127.0.0.1", port=chosen, server_hostname="localhost", **kwargs
            )
            try:
                controller.start()
                break
            except OSError:  # another test took the free port first
                controller.loop.close()  # a failed start leaves it open
                if port or attempt == 2:
                    raise
        server = SmtpServer(chosen, box, controller)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server(start_smtp: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server: no AUTH, no STARTTLS."""
    return start_smtp()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 / localhost."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate made with the ``openssl`` command (skips without it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    names = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    command = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-subj", "/CN=localhost", "-addext", names, "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return Certificate(cert, key)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections but never says a word (for timeouts)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


# --- HTTP ------------------------------------------------------------------


@dataclass
class Request:
    """One request the HTTP server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    """What the HTTP server answers: status, headers, body, after ``delay`` seconds."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


class HttpServer(ThreadingHTTPServer):
    """Records every request in ``requests`` and answers with ``answer``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Request] = []
        self.answer = Answer()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: HttpServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append(Request(self.command, self.path, headers, body))
        answer = self.server.answer
        if answer.delay and self.server.release.wait(answer.delay):
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def start_http() -> Iterator[Callable[[], HttpServer]]:
    """Start HTTP servers on 127.0.0.1; all are shut down and closed at teardown."""
    running: list[tuple[HttpServer, threading.Thread]] = []

    def start() -> HttpServer:
        server = HttpServer()
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.release.set()
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def http_server(start_http: Callable[[], HttpServer]) -> HttpServer:
    """One HTTP server answering ``200`` with an empty body until told otherwise."""
    return start_http()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 must not go through a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
