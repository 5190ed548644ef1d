"""``flowctl serve`` and ``flowctl daemon --http`` as real processes: they refuse to start
without their secrets, serve until SIGTERM, and the HTTP code loads only when asked for."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flowctl.http.server import listen
from tests.conftest import REPO
from tests.daemon.conftest import Flowctl
from tests.http.conftest import SECRET, TOKEN, http_config

FLOWCTL = [sys.executable, "-m", "flowctl"]


def free_port() -> int:
    with listen("127.0.0.1", 0) as sock:
        port: int = sock.getsockname()[1]
        return port


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWCTL_")}
    env.update(FLOWCTL_STORE=str(tmp_path / "flowctl.db"), PYTHONPATH=str(REPO), **extra)
    return env


def wait_for(proc: subprocess.Popen[str], marker: str) -> list[str]:
    """Stderr lines up to the one with ``marker`` (the process must not exit first)."""
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError("".join(lines))


def get(port: int, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        return conn.getresponse().read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("command", "ready"),
    [(["serve"], "serving http://"), (["daemon", "--http", "--tick", "0.1s"], "daemon started")],
)
def test_serves_until_sigterm(command: list[str], ready: str, tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "flowctl.toml"
    config.write_text(http_config(f"http://127.0.0.1:{port}", port=str(port)), encoding="utf-8")
    env = environment(
        tmp_path,
        FLOWCTL_CONFIG=str(config),
        FLOWCTL_HTTP_TOKEN=TOKEN,
        FLOWCTL_HTTP_SECRET=SECRET,
    )
    proc = subprocess.Popen(
        [*FLOWCTL, *command], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        started = "".join(wait_for(proc, ready))
        assert f"serving http://127.0.0.1:{port}" in started
        assert json.loads(get(port, "/healthz")) == {"status": "ok"}
        ticks = "flowctl_tick_duration_seconds_count" in get(port, "/metrics")
        assert ticks is (command[0] == "daemon")  # only the daemon has ticks to time
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
    assert "apscheduler" not in started + rest  # one line per batch, not per scheduled job


def test_serve_refuses_a_port_beyond_65535(flowctl: Flowctl) -> None:
    run = flowctl("serve", "--port", "70000")
    assert run.code == 2
    assert "65535" in run.err and "Traceback" not in run.err


def test_serve_refuses_to_start_without_secrets(
    flowctl: Flowctl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOWCTL_HTTP_SECRET", raising=False)
    flowctl.configure(http_config("http://127.0.0.1:9"))
    run = flowctl("serve", "--port", "0")
    assert run.code == 1
    assert "$FLOWCTL_HTTP_SECRET, which is not set" in run.err
    assert "Traceback" not in run.err
    assert flowctl("daemon", "--once").code == 1  # it signs links: the same secret is needed


def test_serve_refuses_a_port_in_use(flowctl: Flowctl, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWCTL_HTTP_TOKEN", TOKEN)
    monkeypatch.setenv("FLOWCTL_HTTP_SECRET", SECRET)
    flowctl.configure(http_config("http://127.0.0.1:9"))
    with listen("127.0.0.1", 0) as taken:
        run = flowctl("serve", "--port", str(taken.getsockname()[1]))
    assert run.code == 2
    assert "cannot listen on 127.0.0.1:" in run.err


def test_daemon_http_does_not_go_with_once(flowctl: Flowctl) -> None:
    run = flowctl("daemon", "--once", "--http")
    assert run.code == 2
    assert "--http" in run.err


def test_validate_loads_no_http_code(tmp_path: Path) -> None:
    flow = REPO / "flows" / "lead-nurture.yaml"
    probe = (
        "import sys\n"
        "from flowctl.cli import main\n"
        f"code = main(['validate', {str(flow)!r}])\n"
        "loaded = [m for m in ('starlette', 'uvicorn', 'flowctl.http') if m in sys.modules]\n"
        "print(code, loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip().endswith("0 []"), out
