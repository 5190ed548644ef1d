"""Driving the daemon through the command line on a virtual clock.

:class:`Flowctl` runs ``flowctl --store FILE [--config FILE] ...`` in-process
against a store file in the test's ``tmp_path``, with ``FLOWCTL_NOW`` set by
:meth:`Flowctl.at`; :meth:`Flowctl.once` is ``flowctl daemon --once`` at an
instant. What ran is read back with the JSON views (``participants``,
``history``, ``messages``, ``contacts show``) or through the Store API
(:meth:`Flowctl.store`).

The SMTP server is the aiosmtpd fixture of ``tests/channels/conftest.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flowctl.store import Store, open_store
from flowctl.store.records import OutMessage
from tests.channels.conftest import smtp_server, start_smtp
from tests.conftest import Run

__all__ = ["Flowctl", "flowctl", "smtp_server", "start_smtp"]

STOCKHOLM = ZoneInfo("Europe/Stockholm")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM)
"""Monday 2 March 2026, 09:00 in Stockholm: the tests' first instant."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kill: the daemon killed and restarted as a real process (in the normal suite)"
    )


def iso(moment: datetime) -> str:
    """An instant as FLOWCTL_NOW and ``--at`` take it."""
    return moment.isoformat()


def days(n: float) -> timedelta:
    return timedelta(days=n)


def smtp_config(port: int, **daemon: Any) -> str:
    """``flowctl.toml`` sending e-mail to SMTP on 127.0.0.1:``port`` (no STARTTLS), with
    ``[daemon]`` keys."""
    lines = [
        "[email]",
        'transport = "smtp"',
        'host = "127.0.0.1"',
        f"port = {port}",
        "starttls = false",
        'sender = "Flows <flows@example.com>"',
        "timeout = 5.0",
    ]
    if daemon:
        lines.append("[daemon]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in daemon.items()]
    return "\n".join(lines) + "\n"


class Flowctl:
    """The command line against one store file, on a clock the test moves."""

    def __init__(self, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
        self._cli = cli
        self._monkeypatch = monkeypatch
        self.tmp_path = tmp_path
        self.db = tmp_path / "flowctl.db"
        self.config: Path | None = None
        self.now: datetime | None = None

    # -- running commands ------------------------------------------------

    def at(self, moment: datetime) -> Flowctl:
        """Set "now" (``FLOWCTL_NOW``) for the commands that follow."""
        self.now = moment
        self._monkeypatch.setenv("FLOWCTL_NOW", iso(moment))
        return self

    def configure(self, toml: str) -> Path:
        """Write ``flowctl.toml`` and pass it with ``--config`` from now on."""
        self.config = self.tmp_path / "flowctl.toml"
        self.config.write_text(toml, encoding="utf-8")
        return self.config

    def __call__(self, *args: Any, stdin: str | None = None) -> Run:
        """``flowctl --store DB [--config FILE] ARGS``: the outcome, whatever the exit code."""
        base: list[Any] = ["--store", self.db]
        if self.config is not None:
            base += ["--config", self.config]
        return self._cli(*base, *args, stdin=stdin)

    def ok(self, *args: Any, stdin: str | None = None) -> Run:
        """Run and insist on exit code 0."""
        run = self(*args, stdin=stdin)
        assert run.code == 0, f"flowctl {' '.join(map(str, args))} -> {run.code}\n{run.err}"
        return run

    def json(self, *args: Any) -> Any:
        """Run with ``-o json`` (exit code 0) and parse stdout."""
        return self.ok(*args, "-o", "json").json()

    def once(self, moment: datetime | None = None) -> dict[str, int]:
        """``flowctl daemon --once -o json`` at ``moment`` (or the current "now")."""
        if moment is not None:
            self.at(moment)
        stats: dict[str, int] = self.json("daemon", "--once")
        return stats

    # -- setting up ------------------------------------------------------

    def apply(self, *paths: Path | str) -> Any:
        return self.json("apply", *paths)

    def activate(self, *flows: str) -> None:
        for flow in flows:
            self.ok("activate", flow, "--yes")

    def write(self, name: str, text: str) -> Path:
        path = self.tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def send(
        self,
        type: str,
        contact: str,
        *,
        at: datetime | None = None,
        id: str | None = None,
        **data: Any,
    ) -> Run:
        """``flowctl event send TYPE --contact REF [--data k=v]... [--at] [--id]``;
        a value that is not a string is given as JSON."""
        args: list[Any] = ["event", "send", type, "--contact", contact]
        for key, value in data.items():
            text = value if isinstance(value, str) else json.dumps(value)
            args += ["--data", f"{key}={text}"]
        if at is not None:
            args += ["--at", iso(at)]
        if id is not None:
            args += ["--id", id]
        return self.ok(*args)

    def ingest(self, events: Sequence[Mapping[str, Any]]) -> Any:
        """``flowctl event ingest -`` with ``events`` as JSON Lines on stdin."""
        text = "".join(json.dumps(e, default=str) + "\n" for e in events)
        return self.ok("event", "ingest", "-", "-o", "json", stdin=text).json()

    def import_contacts(self, contacts: Sequence[Mapping[str, Any]], name: str = "contacts") -> Any:
        """``flowctl contacts import FILE.jsonl``."""
        path = self.write(f"{name}.jsonl", "".join(json.dumps(c) + "\n" for c in contacts))
        return self.json("contacts", "import", path)

    # -- reading back ------------------------------------------------------

    def contact(self, ref: str) -> dict[str, Any]:
        shown: dict[str, Any] = self.json("contacts", "show", ref)
        return shown

    def participants(self, flow: str, *more: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.json("participants", flow, *more)
        return rows

    def participant(self, flow: str, ref: str) -> dict[str, Any]:
        """The one participation of contact ``ref`` (its e-mail or id) in ``flow``."""
        rows = [p for p in self.participants(flow) if ref in (p["email"], p["contact"])]
        assert len(rows) == 1, rows
        return rows[0]

    def history(self, **which: str) -> list[dict[str, Any]]:
        args: list[str] = []
        for key, value in which.items():
            args += [f"--{key}", value]
        rows: list[dict[str, Any]] = self.json("history", *args)
        return rows

    def path(self, contact: str, flow: str | None = None) -> list[str]:
        """The steps ``contact`` ran, oldest first (from ``history --contact``)."""
        rows = reversed(self.history(contact=contact, limit="10000"))
        return [r["step"] for r in rows if r["step"] is not None and flow in (None, r["flow"])]

    def messages(self, *more: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.json("messages", *more)
        return rows

    @contextmanager
    def store(self) -> Iterator[Store]:
        """The store, through its Python API (closed afterwards)."""
        with open_store(str(self.db)) as store:
            yield store


@pytest.fixture(autouse=True)
def webhooks(monkeypatch: pytest.MonkeyPatch) -> list[OutMessage]:
    """Webhook calls the daemon makes in-process, recorded instead of sent.

    The example flows call the user's own systems (``https://crm.acme.example``
    …); tests do not reach out to the network, nor through a proxy.
    """
    from flowctl.channels.webhook import WebhookTransport

    calls: list[OutMessage] = []

    def send(self: WebhookTransport, message: OutMessage) -> str | None:
        calls.append(message)
        return None

    monkeypatch.setattr(WebhookTransport, "send", send)
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    return calls


@pytest.fixture
def flowctl(cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Flowctl:
    """The command line on a fresh store in ``tmp_path``, "now" at :data:`T0`."""
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)
    monkeypatch.delenv("FLOWCTL_CONFIG", raising=False)
    monkeypatch.delenv("FLOWCTL_USER", raising=False)
    monkeypatch.chdir(tmp_path)
    return Flowctl(cli, monkeypatch, tmp_path).at(T0)
