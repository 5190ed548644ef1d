"""The server's store thread: jobs in order, one transaction per group, a failing job
undoing only its own writes; the checkpointer beside it."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowctl.http.storethread import Checkpointer, StoreThread, sqlite_path
from flowctl.store import Store, open_store

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class Boom(Exception):
    """A job that fails."""


def insert(email: str, fail: bool = False):  # type: ignore[no-untyped-def]
    def job(store: Store) -> list[int]:
        cids = store.insert_contacts([{"email": email}], NOW)
        if fail:
            raise Boom(email)
        return cids

    return job


def test_a_failing_job_undoes_only_its_own_writes(tmp_path: Path) -> None:
    thread = StoreThread(str(tmp_path / "s.db"))
    thread.start()

    async def main() -> list[object]:
        jobs = [insert(f"c{i}@example.com", fail=i % 3 == 1) for i in range(30)]
        done: list[object] = await asyncio.gather(
            *(thread.run(job) for job in jobs), return_exceptions=True
        )
        return done

    try:
        results = asyncio.run(main())
    finally:
        thread.close()
    failed = [i for i, r in enumerate(results) if isinstance(r, Boom)]
    assert failed == list(range(1, 30, 3))
    with open_store(str(tmp_path / "s.db")) as store:
        emails = sorted(str(c.data["email"]) for c in store.contacts(limit=100))
    assert emails == sorted(f"c{i}@example.com" for i in range(30) if i % 3 != 1)


def test_a_store_that_cannot_open_fails_at_start(tmp_path: Path) -> None:
    thread = StoreThread(str(tmp_path / "missing" / "s.db"))
    with pytest.raises(Exception, match="does not exist"):
        thread.start()
    thread.close()


def test_sqlite_path() -> None:
    assert sqlite_path("flowctl.db") == "flowctl.db"
    assert sqlite_path("sqlite:///var/lib/f.db") == "/var/lib/f.db"
    assert sqlite_path(":memory:") is None
    assert sqlite_path("postgresql://db/flows") is None


def test_checkpointer_runs_beside_writers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flowctl.http.storethread.CHECKPOINT_EVERY", 0.01)
    path = tmp_path / "s.db"
    with open_store(str(path)) as store:
        checkpointer = Checkpointer(str(path))
        checkpointer.start()
        for i in range(200):
            store.insert_contacts([{"email": f"c{i}@example.com"}], NOW)
        checkpointer.close()
        checkpointer.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM contacts").fetchone() == (200,)
