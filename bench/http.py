"""The HTTP intake (issue 8): events per second through ``POST /v1/events`` on loopback.

The server is ``flowctl serve`` in a process of its own, over a store that
holds 1,000 contacts; the load comes from a second process
(``python -m bench.http load …``), an asyncio client on keep-alive
connections. Every event is a ``page_visited`` for a known contact with an
``id`` never sent before, so each is really stored. Each run warms up for
a second (not counted), then (best of three runs each):

- **single**: one event per request, 16 connections, closed loop (each sends
  its next request when the answer comes): the most events per second;
- **batched**: arrays of 100 events, 4 connections, closed loop;
- **paced**: one event per request at 1,000 events/s, open loop (sends go
  out on schedule whatever the answers; the latency of a request is counted
  from its scheduled time, so a stalled server cannot hide its queue).

Targets on the 2-core machine: at least 2,000 single events/s (at most
500 µs per event), at least 20,000 events/s in batches (at most 50 µs per
event), p99 latency under 50 ms at 1,000 events/s. p50 and p99 of every run
are in ``detail``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import REPO, BenchError, Measurement, Settings, Target, run_cli

CONTACTS = 1000
SECONDS, SECONDS_QUICK = 10.0, 3.0
RUNS = 3
"""Runs of each load (one with ``--quick``); the best counts, as in the other benchmarks."""
WARMUP = 1.0
PACED_RATE = 1000
TOKEN = "bench-token-0123456789abcdef"
EVENT = (
    '{"type":"page_visited","contact":{"email":"c%d@example.com"},"id":"%s",'
    '"data":{"url":"https://www.example.com/pricing"}}'
)


def run(settings: Settings) -> list[Measurement]:
    seconds = SECONDS_QUICK if settings.quick else SECONDS
    runs = 1 if settings.quick else RUNS
    single: list[dict[str, Any]] = []
    batched: list[dict[str, Any]] = []
    paced: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="flowctl-bench-") as tmp, _server(Path(tmp)) as port:
        for n in range(runs):
            single.append(_load(port, f"single{n}", size=1, connections=16, seconds=seconds))
            batched.append(_load(port, f"batched{n}", size=100, connections=4, seconds=seconds))
            paced.append(
                _load(port, f"paced{n}", size=1, connections=32, seconds=seconds, rate=PACED_RATE)
            )
    return _figures(
        _best(single, "events_per_s", max),
        _best(batched, "events_per_s", max),
        _best(paced, "p99_ms", min),
    )


def _best(
    runs: list[dict[str, Any]], key: str, pick: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """The best of the runs (by ``key``), with every run's figures under ``runs``."""
    best = dict(pick(runs, key=lambda r: r[key]))
    best["runs"] = [{k: r[k] for k in ("events_per_s", "p50_ms", "p99_ms")} for r in runs]
    return best


def _figures(
    single: dict[str, Any], batched: dict[str, Any], paced: dict[str, Any]
) -> list[Measurement]:
    return [
        Measurement("single events: events/s", single["events_per_s"], "events/s"),
        Measurement(
            "single events: time per event",
            1e6 / single["events_per_s"],
            "µs",
            target=Target(500),
            detail=single,
        ),
        Measurement("batches of 100: events/s", batched["events_per_s"], "events/s"),
        Measurement(
            "batches of 100: time per event",
            1e6 / batched["events_per_s"],
            "µs",
            target=Target(50),
            detail=batched,
        ),
        Measurement(f"{PACED_RATE:,} events/s: p50 latency", paced["p50_ms"], "ms"),
        Measurement(
            f"{PACED_RATE:,} events/s: p99 latency",
            paced["p99_ms"],
            "ms",
            target=Target(50, inclusive=False),
            detail=paced,
        ),
    ]


@contextmanager
def _server(folder: Path) -> Iterator[int]:
    """``flowctl serve`` on a free loopback port over a store with :data:`CONTACTS` contacts."""
    from flowctl.load.records import Record
    from flowctl.operate.intake import import_contacts
    from flowctl.store import open_store

    store = folder / "bench.db"
    with open_store(str(store)) as st:
        rows = [Record(i, {"email": f"c{i}@example.com"}) for i in range(CONTACTS)]
        import_contacts(st, rows, datetime.now(UTC))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    config = folder / "flowctl.toml"
    config.write_text(
        f'[http]\nport = {port}\ntoken_env = "BENCH_TOKEN"\nsecret_env = "BENCH_TOKEN"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWCTL_")}
    env.update(FLOWCTL_STORE=str(store), FLOWCTL_CONFIG=str(config), BENCH_TOKEN=TOKEN)
    with (folder / "serve.log").open("wb") as log:
        argv = [sys.executable, "-m", "flowctl", "serve"]
        server = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=log)
        try:
            _wait(port, server, folder / "serve.log")
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"flowctl serve exited {server.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError("flowctl serve did not start within 30 s")


def _load(
    port: int, tag: str, *, size: int, connections: int, seconds: float, rate: int = 0
) -> dict[str, Any]:
    """Run the load generator in a process of its own; what it measured."""
    argv = [sys.executable, "-m", "bench.http", "load", str(port), tag]
    argv += [f"--size={size}", f"--connections={connections}", f"--seconds={seconds}"]
    argv += [f"--rate={rate}"]
    done = run_cli(argv)
    result: dict[str, Any] = json.loads(done.stdout)
    if result["errors"]:
        raise BenchError(f"{tag}: {result['errors']} requests failed: {result['statuses']}")
    result["generator_peak_rss_mb"] = done.peak_rss_mb
    return result


# -- the load generator (the second process) ---------------------------------


class _Run:
    """One load run: its requests' latencies, what came back, and its clock."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.events = 0
        self.ids = itertools.count()
        self.slots = itertools.count()
        self.start = 0.0
        self.measured_from = 0.0
        self.end = 0.0

    def body(self, conn: int) -> bytes:
        """A request body: one event, or an array of ``size``, each with a new id."""
        items = []
        for _ in range(self.args.size):
            n = next(self.ids)
            items.append(EVENT % (n % CONTACTS, f"{self.args.tag}-{conn}-{n}"))
        return (items[0] if self.args.size == 1 else "[" + ",".join(items) + "]").encode()

    def due(self, now: float) -> float | None:
        """When the next request goes out: now (closed loop) or its slot (paced); None: stop."""
        if not self.args.rate:
            return now if now < self.end else None
        at = self.start + next(self.slots) / self.args.rate
        return at if at < self.end else None


async def _connection(run: _Run, conn: int, clock: Callable[[], float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", run.args.port)
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    )
    try:
        while (due := run.due(clock())) is not None:
            if due > clock():
                await asyncio.sleep(due - clock())
            body = run.body(conn)
            writer.write((head % len(body)).encode() + body)
            header = await reader.readuntil(b"\r\n\r\n")
            length = int(header.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            done = clock()
            if due >= run.measured_from:
                status = int(header.split(b" ", 2)[1])
                run.statuses[status] = run.statuses.get(status, 0) + 1
                run.latencies.append(done - due)
                run.events += run.args.size
    finally:
        writer.close()


async def _generate(args: argparse.Namespace) -> dict[str, Any]:
    run = _Run(args)
    clock = asyncio.get_running_loop().time
    run.start = clock()
    run.measured_from = run.start + WARMUP
    run.end = run.measured_from + args.seconds
    await asyncio.gather(*(_connection(run, c, clock) for c in range(args.connections)))
    elapsed = clock() - run.measured_from
    ordered = sorted(run.latencies)

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

    accepted = run.statuses.get(202, 0)
    return {
        "mode": "paced" if args.rate else "closed loop",
        "rate": args.rate or None,
        "events_per_request": args.size,
        "connections": args.connections,
        "seconds": elapsed,
        "requests": len(ordered),
        "events": run.events,
        "events_per_s": run.events / elapsed,
        "requests_per_s": len(ordered) / elapsed,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "max_ms": ordered[-1] * 1000 if ordered else 0.0,
        "statuses": {str(k): v for k, v in run.statuses.items()},
        "errors": len(ordered) - accepted,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http")
    parser.add_argument("command", choices=["load"])
    parser.add_argument("port", type=int)
    parser.add_argument("tag")
    parser.add_argument("--size", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--rate", type=int, default=0, help="requests/s; 0: closed loop")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_generate(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
