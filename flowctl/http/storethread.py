"""The server's store: one connection, owned by one thread, with group commit.

Handlers never touch SQLite on the event loop. They hand a job — a function
of the :class:`~flowctl.store.Store` — to :meth:`StoreThread.run` and await
its result. The thread takes every job waiting when it is free (at most
:data:`GROUP`) and runs them in one transaction, each job in a savepoint of
its own: under load many requests share one commit, and a job that fails
undoes only its own writes and gets its own exception. The connection is
never used by two threads, and the daemon (another connection, maybe
another process) takes turns with the server through SQLite's write lock
and busy timeout. For a SQLite store, a :class:`Checkpointer` keeps the
write-ahead log's checkpoints (and their fsyncs) off the requests' path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

from flowctl.store import Store, open_store

T = TypeVar("T")

GROUP: Final = 64
"""Jobs committed together at most."""

CHECKPOINT_EVERY: Final = 0.25
"""Seconds between two checkpoints of a SQLite store's log (see :class:`Checkpointer`)."""

log = logging.getLogger("flowctl.http")

_Job = tuple[Callable[[Store], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]


class Checkpointer:
    """Checkpoints a SQLite store's write-ahead log from a thread and connection of its own.

    A commit that finds the log over SQLite's limit (1,000 pages) checkpoints
    it there and then, with an fsync of the log and of the database: tens of
    milliseconds on ordinary disks, spent by the request that happened to
    commit. Checkpointing every :data:`CHECKPOINT_EVERY` seconds from here
    (``PASSIVE``: it never waits for a writer, nor makes one wait) keeps the
    log short, so commits on the request path rarely do it themselves.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flowctl-checkpoint", daemon=True)

    def start(self) -> None:
        """Start checkpointing."""
        self._thread.start()

    def close(self) -> None:
        """Stop. Idempotent."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=1, isolation_level=None)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or locked: the next round will do
                    log.debug("checkpoint skipped: %s", exc)
        finally:
            conn.close()


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite store URL; None for other stores and ``:memory:``."""
    if "://" in url and not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite://")
    return None if path == ":memory:" else str(Path(path).expanduser())


class StoreThread:
    """Runs jobs against the store at ``url`` in a thread of its own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="flowctl-store", daemon=True)
        self._opened = threading.Event()
        self._failure: BaseException | None = None
        path = sqlite_path(url)
        self._checkpointer = Checkpointer(path) if path is not None else None

    def start(self) -> None:
        """Open the store in the thread; raises what opening it raised."""
        self._thread.start()
        self._opened.wait()
        if self._failure is not None:
            raise self._failure
        if self._checkpointer is not None:
            self._checkpointer.start()

    async def run(self, job: Callable[[Store], T]) -> T:
        """``job(store)`` in the store's thread, inside a transaction; its result or exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((job, future, loop))
        return await future

    def close(self) -> None:
        """Finish the jobs queued, then close the store. Idempotent."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()
        if self._checkpointer is not None:
            self._checkpointer.close()

    def _serve(self) -> None:
        try:
            store = open_store(self.url)
        except BaseException as exc:
            self._failure = exc
            self._opened.set()
            return
        self._opened.set()
        with store:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                group = [first]
                while len(group) < GROUP:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        self._jobs.put(None)  # stop after this group
                        break
                    group.append(job)
                self._commit(store, group)

    def _commit(self, store: Store, group: list[_Job]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with store.transaction():
                for job, _, _ in group:
                    try:
                        with store.transaction():
                            outcomes.append((True, job(store)))
                    except Exception as exc:
                        outcomes.append((False, exc))
        except Exception as exc:  # the commit itself failed: every job with it
            log.warning("store commit failed: %s", exc)
            outcomes = [(False, exc)] * len(group)
        # One wake-up per event loop, not per job: each costs a write to the loop's pipe.
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for (_, future, loop), (ok, value) in zip(group, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(_settle, settled)


_Outcome = tuple[asyncio.Future[Any], bool, Any]


def _settle(outcomes: list[_Outcome]) -> None:
    for future, ok, value in outcomes:
        if future.done():  # the request went away (client disconnected)
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
