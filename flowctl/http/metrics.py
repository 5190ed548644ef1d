"""``GET /metrics``: Prometheus text format (version 0.0.4).

Two sources. The server's own counters: events received over HTTP by source
(``api``, ``form``, ``open``, ``click``, ``unsubscribe``) and items rejected.
The store, read at each scrape: steps executed per flow (the per-step
counters, kept through purges), participants by status and messages by
status, per flow. Inside the daemon (``flowctl daemon --http``) the duration
of each tick (a worker pass) is a histogram, ``flowctl_tick_duration_seconds``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from flowctl.daemon.worker import Stats, Worker
from flowctl.engine.state import Limits
from flowctl.store import Store

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the tick histogram's buckets."""


class Histogram:
    """Observations counted into cumulative buckets; safe to feed from any thread."""

    def __init__(self, buckets: Iterable[float] = BUCKETS) -> None:
        self.bounds = tuple(buckets)
        self.counts = [0] * len(self.bounds)
        self.count = 0
        self.sum = 0.0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        """Count one observation."""
        with self._lock:
            self.count += 1
            self.sum += value
            for i, bound in enumerate(self.bounds):
                if value <= bound:
                    self.counts[i] += 1

    def lines(self, name: str) -> list[str]:
        """The ``_bucket``, ``_sum`` and ``_count`` samples."""
        with self._lock:
            out = [
                f'{name}_bucket{{le="{bound:g}"}} {n}'
                for bound, n in zip(self.bounds, self.counts, strict=True)
            ]
            out.append(f'{name}_bucket{{le="+Inf"}} {self.count}')
            out += [f"{name}_sum {self.sum:.6f}", f"{name}_count {self.count}"]
        return out


@dataclass
class Metrics:
    """The server's own figures. ``ticks`` is None outside the daemon."""

    received: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    ticks: Histogram | None = None

    def render(self, figures: StoreFigures) -> str:
        """The whole exposition, the store's ``figures`` included."""
        lines: list[str] = []
        _family(lines, "flowctl_events_received_total", "counter", "Events recorded over HTTP.")
        for source, n in sorted(self.received.items()):
            lines.append(f'flowctl_events_received_total{{source="{source}"}} {n}')
        _family(lines, "flowctl_events_rejected_total", "counter", "Event items rejected.")
        for source, n in sorted(self.rejected.items()):
            lines.append(f'flowctl_events_rejected_total{{source="{source}"}} {n}')
        _family(lines, "flowctl_steps_executed_total", "counter", "Steps run, per flow.")
        for flow, n in sorted(figures.steps.items()):
            lines.append(f"flowctl_steps_executed_total{{flow={_label(flow)}}} {n}")
        _family(lines, "flowctl_participants", "gauge", "Participations by status.")
        for (flow, status), n in sorted(figures.participants.items()):
            labels = f"flow={_label(flow)},status={_label(status)}"
            lines.append(f"flowctl_participants{{{labels}}} {n}")
        _family(lines, "flowctl_messages", "gauge", "Messages in the outbox by status.")
        for (flow, status), n in sorted(figures.messages.items()):
            lines.append(f"flowctl_messages{{flow={_label(flow)},status={_label(status)}}} {n}")
        if self.ticks is not None:
            name = "flowctl_tick_duration_seconds"
            _family(lines, name, "histogram", "Duration of the daemon's ticks.")
            lines += self.ticks.lines(name)
        return "\n".join(lines) + "\n"


@dataclass
class StoreFigures:
    """What the store says at a scrape, per flow."""

    steps: dict[str, int] = field(default_factory=dict)
    participants: dict[tuple[str, str], int] = field(default_factory=dict)
    messages: dict[tuple[str, str], int] = field(default_factory=dict)


def store_figures(store: Store) -> StoreFigures:
    """Read the figures of every flow (a job for the store thread)."""
    figures = StoreFigures()
    for flow in store.flows():
        name = flow.name
        counts = store.step_counts(name)
        figures.steps[name] = sum(n for (step, _), n in counts.items() if step != "-")
        for status, n in store.participant_counts(name).items():
            figures.participants[(name, status)] = n
        for by_status in store.sent_messages_count(name).values():
            for status, n in by_status.items():
                key = (name, status)
                figures.messages[key] = figures.messages.get(key, 0) + n
    return figures


class TimedWorker(Worker):
    """The daemon's worker, timing each pass into ``ticks``."""

    def __init__(
        self, store: Store, ticks: Histogram, *, batch_size: int, limits: Limits | None
    ) -> None:
        super().__init__(store, batch_size=batch_size, limits=limits)
        self.ticks = ticks

    def run_pass(self, now: datetime) -> Stats:
        started = time.perf_counter()
        try:
            return super().run_pass(now)
        finally:
            self.ticks.observe(time.perf_counter() - started)


def _family(lines: list[str], name: str, kind: str, text: str) -> None:
    lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _label(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
