"""Scale-out (issue 7): daemon throughput with 1, 2 and 4 daemons on one PostgreSQL.

**Workload.** The daemon benchmark's (``bench/daemon.py``): 20,000
contacts (4,000 with ``--quick``) each submit the form that triggers its
6-step flow (tag, update, decision, delay 1d, e-mail, end). Its SQLite
setup (cached in ``bench/.data/daemon``) is moved into PostgreSQL with
``flowctl store migrate``, once, into a template database; each run gets a
fresh copy of it.

**Timed.** K daemon processes (``python -m bench.postgres drive URL``)
open the store, wait at a barrier, then each does what ``flowctl daemon
--once`` does at ``t0`` and then at ``t0 + 1d``; the daemons share the
work through ``FOR UPDATE SKIP LOCKED``. Wall time runs from the barrier to
the last exit; steps are the sum the daemons report, checked against the
history (one row per step, every participant completed, one e-mail each);
the best of two runs counts. Also reported, to show where the curve bends:
the CPU the daemons used, the CPU the server used (its postmaster's and
ended backends' time from ``/proc``), and the machine's busy CPU over the
run, whoever used it (``/proc/stat``; on a shared machine, other work too).

**Server.** Debian's PostgreSQL (``scripts/ensure-postgres.sh``) started in
a temporary folder on loopback with its durable defaults (``fsync``,
``synchronous_commit`` on; the store itself commits delivery records
without waiting for the flush); or ``FLOWCTL_BENCH_POSTGRES`` = a superuser URL
of a server to use. The baseline is one daemon on PostgreSQL; the SQLite
daemon on the same setup is reported beside it. Target: at least 2,000
steps/s with 2 daemons (at most 500 µs of wall time per step).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.daemon import STEPS, T0, T1, _ready_store
from bench.measure import BenchError, Measurement, Settings, Target, run_cli

PARTICIPANTS = 20_000
PARTICIPANTS_QUICK = 4_000
DAEMONS = (1, 2, 4)
TARGET = Target(500.0)
"""At most 500 µs of wall time per step with two daemons: at least 2,000 steps/s."""
ENV = "FLOWCTL_BENCH_POSTGRES"


def run(settings: Settings) -> list[Measurement]:
    count = PARTICIPANTS_QUICK if settings.quick else PARTICIPANTS
    repeat = 1 if settings.quick else 2
    ready = _ready_store(settings.data_dir / "daemon", count)
    with _server() as server:
        template = _template(server.admin, ready)
        runs = {
            k: min((_timed(server, template, k, count) for _ in range(repeat)), key=_wall)
            for k in DAEMONS
        }
        _sql(server.admin, f"DROP DATABASE IF EXISTS {template}")
    sqlite = _sqlite_drive(ready)
    one = runs[1]["steps_per_s"]
    name = f"{count:,} participants x {STEPS} steps"
    out = [
        Measurement(
            f"{name}, {k} daemon{'s' if k > 1 else ''}: steps/s",
            r["steps_per_s"],
            "steps/s",
            one if k > 1 else sqlite["steps_per_s"],
            "1 daemon" if k > 1 else "SQLite, 1 daemon",
            detail=r,
        )
        for k, r in runs.items()
    ]
    two = runs[2]
    out.append(
        Measurement(
            f"{name}, 2 daemons: per step", two["seconds"] / two["steps"] * 1e6, "µs", target=TARGET
        )
    )
    return out


def _wall(run: dict[str, Any]) -> float:
    return float(run["seconds"])


def _timed(server: _Server, template: str, daemons: int, count: int) -> dict[str, Any]:
    """K daemons from a barrier to the last exit, on a fresh copy of the setup."""
    database = f"bench_{daemons}"
    admin = server.admin
    _sql(
        admin,
        f"DROP DATABASE IF EXISTS {database}",
        f"CREATE DATABASE {database} TEMPLATE {template}",
    )
    url = f"{admin}/{database}"
    with tempfile.TemporaryDirectory(prefix="flowctl-bench-pg-") as tmp:
        go = Path(tmp) / "go"
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.postgres", "drive", url, "--go", str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(daemons)
        ]
        deadline = time.monotonic() + 60
        while len(list(Path(tmp).glob("ready-*"))) < daemons:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise BenchError(f"the daemons did not start: {_errors(procs)}")
            time.sleep(0.01)
        machine, db = _machine_cpu(), server.cpu_seconds()
        go.touch()
        start = time.perf_counter()
        outputs = [p.communicate(timeout=1800) for p in procs]
        wall = time.perf_counter() - start
        time.sleep(0.3)  # the server reaps the daemons' backends: their CPU counts then
        machine, db = _machine_cpu() - machine, server.cpu_seconds() - db
    if any(p.returncode for p in procs):
        raise BenchError(f"a daemon failed: {[err[-2000:] for _, err in outputs]}")
    stats = [json.loads(out) for out, _ in outputs]
    steps = sum(s["steps"] for s in stats)
    _check(url, count, steps)
    _sql(admin, f"DROP DATABASE {database}")
    client = sum(s["cpu_seconds"] for s in stats)
    return {
        "daemons": daemons,
        "steps": steps,
        "seconds": wall,
        "steps_per_s": steps / wall,
        "per_daemon_steps": [s["steps"] for s in stats],
        "daemons_cpu_s": client,
        "server_cpu_s": db,
        "machine_busy_cpu_s": machine,
        "other_work_cpu_s": machine - client - db if server.local else None,
        "cores": os.cpu_count(),
        "daemon_cpu_us_per_step": client / steps * 1e6,
        "server_cpu_us_per_step": db / steps * 1e6 if server.local else None,
    }


def _check(url: str, count: int, steps: int) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        (history,) = conn.execute("SELECT count(*) FROM history").fetchone() or (0,)
        (done,) = conn.execute(
            "SELECT count(*) FROM participants WHERE status = 'completed'"
        ).fetchone() or (0,)
        (sent,) = conn.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone() or (
            0,
        )
    if not steps == history == count * STEPS or done != count or sent != count:
        raise BenchError(
            f"expected {count * STEPS} steps, {count} completed, {count} sent; the daemons "
            f"counted {steps} steps, history holds {history}, {done} completed, {sent} sent"
        )


def _sqlite_drive(ready: Path) -> dict[str, Any]:
    """The SQLite daemon on the same setup (``bench.daemon``'s own timed child)."""
    with tempfile.TemporaryDirectory(prefix="flowctl-bench-pg-") as tmp:
        store = Path(tmp) / "sqlite.db"
        shutil.copy(ready, store)
        timed = json.loads(
            run_cli([sys.executable, "-m", "bench.daemon", "drive", str(store)]).stdout
        )
    return {"steps_per_s": timed["steps"] / timed["seconds"], **timed}


def _template(admin: str, ready: Path) -> str:
    """The setup moved into PostgreSQL by ``store migrate`` (a template for each run)."""
    from flowctl.store.migrate import migrate

    name = "bench_template"
    _sql(admin, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    migrate(str(ready), f"{admin}/{name}")
    _sql(admin, "VACUUM ANALYZE", database=name)
    return name


# -- the daemons' side -----------------------------------------------------------------


def _drive(url: str, go: Path) -> dict[str, Any]:
    """In a child: open the store, wait for the barrier, ``run_once`` at t0 and t0 + 1d."""
    from flowctl.config import Config
    from flowctl.daemon.service import Daemon
    from flowctl.store import open_store

    with open_store(url) as store:
        daemon = Daemon(store, Config.default())
        (go.parent / f"ready-{os.getpid()}").touch()
        while not go.exists():
            time.sleep(0.001)
        cpu = time.process_time()
        steps = sum(daemon.run_once(at).steps for at in (T0, T1))
        daemon.close()
    return {"steps": steps, "cpu_seconds": time.process_time() - cpu}


# -- the server ------------------------------------------------------------------------


@dataclass
class _Server:
    """A superuser URL without a database; ``pidfile`` when we started the server."""

    admin: str
    pidfile: Path | None = None

    @property
    def local(self) -> bool:
        return self.pidfile is not None

    def cpu_seconds(self) -> float:
        """The server's CPU so far: the postmaster's own and its ended backends'."""
        if self.pidfile is None:
            return 0.0
        pid = self.pidfile.read_text().split()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _server() -> Iterator[_Server]:
    """``FLOWCTL_BENCH_POSTGRES``, or a server of our own with its durable defaults."""
    given = os.environ.get(ENV, "").strip()
    if given:
        yield _Server(given.rstrip("/").rsplit("/", 1)[0])
        return
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version)
    if not found:
        raise BenchError("PostgreSQL is not installed: run scripts/ensure-postgres.sh")
    bindir = found[-1].parent
    folder = Path(tempfile.mkdtemp(prefix="flowctl-bench-pg-"))
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if user:
        shutil.chown(folder, "postgres")
    port = _free_port()
    try:
        _run([*user, str(bindir / "initdb"), "-D", "data", "-U", "postgres", "-A", "trust"], folder)
        (folder / "data" / "postgresql.auto.conf").write_text(
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\n"
            "max_connections = 50\nshared_buffers = 256MB\n",
            encoding="utf-8",
        )
        _run([*user, str(bindir / "pg_ctl"), "-D", "data", "-l", "log", "-w", "start"], folder)
        try:
            yield _Server(f"postgresql://postgres@127.0.0.1:{port}", folder / "data/postmaster.pid")
        finally:
            _run([*user, str(bindir / "pg_ctl"), "-D", "data", "-m", "fast", "stop"], folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BenchError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")


def _sql(admin: str, *statements: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"{admin}/{database}", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql.encode())


def _version(initdb: Path) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", initdb.parent.parent.name)] or [0]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _machine_cpu() -> float:
    """CPU seconds all cores spent busy so far, whoever used them (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _errors(procs: Sequence[subprocess.Popen[str]]) -> str:
    return "; ".join(
        (p.stderr.read() if p.stderr else "")[-500:] for p in procs if p.poll() is not None
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.postgres")
    parser.add_argument("command", choices=["drive"])
    parser.add_argument("store", help="a PostgreSQL store made by the setup (it is changed)")
    parser.add_argument("--go", type=Path, required=True, help="start when this file exists")
    args = parser.parse_args(argv)
    print(json.dumps(_drive(args.store, args.go)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
