"""The daemon: the worker's passes, message delivery and the retention purge,
run once (``--once``) or on APScheduler's clock.

APScheduler runs three recurring jobs of the daemon's own — the tick (a
pass of the worker), delivery of queued messages, and the daily purge —
never one job per participant: a waiting participant is a row with an
indexed due time. SIGTERM and SIGINT only set a flag; the running batch
finishes and the daemon stops.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import FrameType

from flowctl.channels import DeliveryError, Transport, backoff, transports_for
from flowctl.config import Config
from flowctl.daemon.worker import MAX_PASSES, Stats, Worker
from flowctl.engine import compile_flow
from flowctl.errors import FlowctlError
from flowctl.store import FLOW, Store
from flowctl.store.records import FAILED, NO_ADDRESS, QUEUED, SENT, Attempt, OutMessage

log = logging.getLogger("flowctl.daemon")

LEASE = timedelta(minutes=5)
"""How long a message being delivered stays claimed before another attempt may take it."""

DEFAULT_RETENTION = timedelta(days=30)


class Daemon:
    """The worker, the transports and the purge over one store."""

    def __init__(
        self, store: Store, config: Config, *, transports: Mapping[str, Transport] | None = None
    ):
        self.store = store
        self.config = config
        self.worker = Worker(store, batch_size=config.daemon.batch_size, limits=config.limits)
        self.transports = dict(transports) if transports is not None else transports_for(config)

    def run_once(self, now: datetime) -> Stats:
        """Everything due at ``now``: passes until none finds work, deliveries, the purge."""
        total = Stats()
        for _ in range(MAX_PASSES):
            stats = self.worker.run_pass(now)
            total.add(stats)
            if not stats.busy or self.worker.stop:
                break
        total.add(self.deliver(now))
        total.purged += self.purge(now)
        return total

    def deliver(self, now: datetime) -> Stats:
        """Send queued messages due at ``now``; retry with backoff, fail for good after a bound."""
        stats = Stats()
        attempts = self.config.daemon.delivery_attempts
        base = self.config.daemon.retry_backoff
        size = self.worker.batch_size
        kept = [channel for channel, t in self.transports.items() if t.keeps]
        while kept and not self.worker.stop:
            sent, failed = self.store.keep_messages(kept, now, size)
            stats.delivered += sent
            stats.failed += failed
            if sent + failed < size:
                break
        while not self.worker.stop:
            claimed = self.store.claim_messages(now, size, now + LEASE)
            if not claimed:
                break
            for message in claimed:
                transport = self.transports.get(message.channel)
                attempt = _attempt(transport, message, now, attempts, base)
                # One by one: a crash re-sends at most the message in flight.
                self.store.finish_messages([attempt], now)
                stats.delivered += attempt.status == SENT
                stats.failed += attempt.status == FAILED
            if len(claimed) < size:
                break
        if stats.delivered or stats.failed:
            log.info("delivery sent=%d failed=%d", stats.delivered, stats.failed)
        return stats

    def purge(self, now: datetime) -> int:
        """Delete step history past each flow's ``history_retention`` and old processed events."""
        cutoffs: dict[str, datetime] = {}
        longest = DEFAULT_RETENTION
        for doc in self.store.documents(FLOW):
            keep = compile_flow(doc.document, doc.version).history_retention
            cutoffs[doc.name] = now - keep
            longest = max(longest, keep)
        gone = self.store.purge(cutoffs, now - longest)
        if gone:
            log.info("purge deleted=%d", gone)
        return gone

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()


def _attempt(
    transport: Transport | None,
    message: OutMessage,
    now: datetime,
    attempts: int,
    base: timedelta,
) -> Attempt:
    """Hand one message to its transport; the attempt's outcome."""
    try:
        if transport is None:
            raise DeliveryError(f"no transport for channel {message.channel}", True)
        if not message.to:
            raise DeliveryError(NO_ADDRESS, True)
        transport.send(message)
    except DeliveryError as exc:
        tries = message.attempts + 1
        if exc.permanent or tries >= attempts:
            return Attempt(message.id, FAILED, exc.reason)
        return Attempt(message.id, QUEUED, exc.reason, now + backoff(tries, base))
    return Attempt(message.id, SENT)


def serve(daemon: Daemon, tick: timedelta, clock: Callable[[], datetime]) -> None:
    """Run until SIGTERM or SIGINT: a tick every ``tick``, delivery alongside, a daily purge."""
    from apscheduler.schedulers.background import BackgroundScheduler

    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        daemon.worker.stop = True
        stopped.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    lock = threading.Lock()  # one store connection: the jobs take turns

    def job(work: Callable[[datetime], object]) -> Callable[[], None]:
        def run() -> None:
            with lock:
                if daemon.worker.stop:
                    return
                try:
                    work(clock())
                except FlowctlError as exc:  # the store out of reach, say: tried again next time
                    log.error("%s failed: %s", work.__name__, exc)

        return run

    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    seconds = max(tick.total_seconds(), 0.05)
    scheduler.add_job(job(daemon.worker.run_pass), "interval", seconds=seconds, id="tick")
    scheduler.add_job(job(daemon.deliver), "interval", seconds=seconds, id="deliver")
    # At start as well: a daemon restarted more often than daily still purges.
    first = datetime.now(UTC)
    scheduler.add_job(job(daemon.purge), "interval", days=1, id="purge", next_run_time=first)
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    scheduler_log.addFilter(_busy)
    scheduler.start()
    log.info("daemon started tick=%.3fs", seconds)
    try:
        stopped.wait()
    finally:
        scheduler.shutdown(wait=True)
        scheduler_log.removeFilter(_busy)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("daemon stopped")


def _busy(record: logging.LogRecord) -> bool:
    """Drops APScheduler's warning that a job was skipped because it still runs: a tick
    that takes longer than the interval is the daemon catching up, not a fault."""
    return "maximum number of running instances reached" not in record.getMessage()
