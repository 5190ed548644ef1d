"""The long-running daemon's own jobs (``serve``): a job that fails for a reason the user
can fix (the store out of reach) logs one line and is tried again; no traceback."""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flowctl.config import Config
from flowctl.daemon.service import Daemon, serve
from flowctl.errors import InputError
from flowctl.store import open_store


def test_a_job_that_cannot_reach_the_store_logs_one_line_and_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[datetime] = []

    def unreachable(now: datetime) -> None:
        calls.append(now)
        raise InputError("cannot reach the PostgreSQL server of postgresql://h/db: refused")

    with open_store(str(tmp_path / "s.db")) as store:
        daemon = Daemon(store, Config())
        monkeypatch.setattr(daemon, "deliver", unreachable)
        stop = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
        stop.start()
        with caplog.at_level(logging.INFO):
            serve(daemon, timedelta(seconds=0.1), lambda: datetime.now(UTC))
        stop.cancel()
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(calls) >= 3 and len(failed) == len(calls)
    assert failed[0].getMessage() == (
        "unreachable failed: cannot reach the PostgreSQL server of postgresql://h/db: refused"
    )
    assert not any(r.exc_info for r in caplog.records)
