"""Measurements as data, and timing of real CLI runs in their own processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
"""The venv's ``bin``: ``flowctl`` and ``check-jsonschema`` live next to this Python."""


@dataclass(frozen=True)
class Settings:
    """What every benchmark is given."""

    quick: bool
    data_dir: Path
    """A git-ignored scratch folder (``bench/.data``) for generated inputs."""


@dataclass(frozen=True)
class Target:
    """A goal: ``value`` (or ``ratio``, measured ÷ baseline) below ``limit``."""

    limit: float
    of: Literal["value", "ratio"] = "value"
    inclusive: bool = True

    def met_by(self, value: float) -> bool:
        return value <= self.limit if self.inclusive else value < self.limit

    def text(self, unit: str) -> str:
        sign = "≤" if self.inclusive else "<"
        if self.of == "ratio":
            return f"ratio {sign} {self.limit:g}"
        return f"{sign} {self.limit:g} {unit}"


@dataclass(frozen=True)
class Measurement:
    """One figure: what was measured, against what baseline, towards which target."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: Target | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        compared = self.ratio if self.target.of == "ratio" else self.value
        return None if compared is None else self.target.met_by(compared)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ratio=self.ratio, met=self.met)
        if self.target is not None:
            data["target"]["text"] = self.target.text(self.unit)
        return data


@dataclass(frozen=True)
class Run:
    """One child process: wall time, its own peak RSS, exit code and output."""

    argv: tuple[str, ...]
    wall: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


class BenchError(Exception):
    """A benchmark could not measure what it meant to (a tool failed on its input)."""


def run_cli(argv: Sequence[str], *, ok: Sequence[int] = (0,), cwd: Path = REPO) -> Run:
    """Run one command; time it with perf_counter and read its own rusage via wait4.

    ``wait4`` gives the rusage of exactly this child, so its ``ru_maxrss`` is
    this run's peak, not the largest of every child so far.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(
            tuple(argv),
            wall,
            usage.ru_maxrss / 1024,  # KiB on Linux
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )
    if run.returncode not in ok:
        shown = " ".join(argv[:4]) + (" …" if len(argv) > 4 else "")
        raise BenchError(
            f"{shown} exited {run.returncode}:\n{run.stdout[-2000:]}{run.stderr[-2000:]}"
        )
    return run


def best_of(times: int, argv: Sequence[str], *, ok: Sequence[int] = (0,)) -> list[Run]:
    """``times`` runs of one command, fastest first."""
    return sorted((run_cli(argv, ok=ok) for _ in range(times)), key=lambda r: r.wall)


def tool(name: str) -> str:
    """The path of an executable in the venv that runs the benchmarks."""
    path = BIN / name
    if not path.exists():
        raise BenchError(f"{path} not found; run `make install` first")
    return str(path)
