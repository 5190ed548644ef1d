"""``flowctl report --html``: one self-contained page, opened in a real headless Chromium.

The browser is Debian's ``chromium``; the session fixture installs it with
``scripts/ensure-chromium.sh`` when it is missing (and skips, saying why,
only when it cannot be installed). The page is opened from a file with
name resolution switched off, on a laptop and a phone-sized window; a
screenshot is taken and the browser's console log must show no error.
A control page with a deliberate script error proves the log is read.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.daemon.conftest import Flowctl
from tests.report.conftest import run_scenario

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CONSOLE_ERROR = re.compile(r"Uncaught|:CONSOLE[:(]|Failed to load resource|net::ERR_|Refused to")
"""Lines of the browser's log that mean trouble. The page runs no script, so any console
message at all (Chromium logs ``console.error`` like ``console.log``) counts."""
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser's path; installed by ``scripts/ensure-chromium.sh`` when missing."""
    found = _browser()
    if found is None:
        script = REPO / "scripts" / "ensure-chromium.sh"
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=1200)
        found = _browser()
        if found is None:
            pytest.skip(f"chromium is missing and cannot be installed here: {done.stderr[-400:]}")
    return found


def _browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def open_page(browser: str, page: Path, shot: Path, size: str, profile: Path) -> str:
    """Open ``page`` headless, screenshot it to ``shot``; return the browser's log."""
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no network, as on a plane
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--window-size={size}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if CONSOLE_ERROR.search(line)]


@pytest.fixture
def page(flowctl: Flowctl) -> Path:
    run_scenario(flowctl)
    path = flowctl.tmp_path / "out" / "ab-report.html"
    path.parent.mkdir()
    run = flowctl.ok("report", "ab-report", "--html", path)
    assert run.out.strip() == f"report of flow/ab-report written to {path}"
    return path


def test_html_page_is_self_contained(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport"' in text
    for needs_network in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert needs_network not in text
    assert not re.search(r"https?://", text)
    for shown in ("Funnel", "Entries over time", "Outcomes per branch", "Mailings", "Flow"):
        assert shown in text
    for step in ("welcome", "subject", "offer-a", "wait-2d", "clicked", "tag-cold"):
        assert f'id="step-{step}"' in text  # in the diagram
    assert "<svg" in text and "2026-03-02: 12" in text  # the entries chart, a column per day
    assert len(text.encode()) < 100_000


def test_html_page_opens_in_chromium_without_console_errors(
    chromium: str, page: Path, tmp_path: Path
) -> None:
    for name, size in (("laptop", "1280,2400"), ("phone", "390,3200")):
        shot = tmp_path / f"{name}.png"
        log = open_page(chromium, page, shot, size, tmp_path / f"profile-{name}")
        assert console_errors(log) == [], log
        data = shot.read_bytes()
        assert data.startswith(PNG), name
        assert len(data) > 20_000, f"{name} screenshot looks blank ({len(data)} bytes)"


def test_console_errors_are_caught(chromium: str, tmp_path: Path) -> None:
    """The control: a page with a script error shows up in the log we read."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><p>x</p><script>console.error('oops'); throw new Error('boom')</script>"
    )
    log = open_page(chromium, bad, tmp_path / "bad.png", "400,300", tmp_path / "profile")
    errors = console_errors(log)
    assert any("Uncaught Error: boom" in line for line in errors), log
    assert any("oops" in line for line in errors), log
