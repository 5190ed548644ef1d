"""Rendering results: a rich table on the terminal, JSON files in ``bench/results``."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.measure import REPO, Measurement

RESULTS = Path(__file__).resolve().parent / "results"
NONE = "-"


def table(results: Mapping[str, Sequence[Measurement]]) -> Table:
    """One row per measurement: measured, baseline, ratio, target, met?."""
    out = Table(title="flowctl benchmarks")
    for column in ("benchmark", "measured", "baseline", "ratio", "target", "met?"):
        out.add_column(column, justify="left" if column == "benchmark" else "right")
    for bench, measurements in results.items():
        for m in measurements:
            baseline = f"{_fmt(m.baseline, m.unit)} {m.baseline_name}" if m.baseline else NONE
            ratio = f"{m.ratio:.2f}x" if m.ratio is not None else NONE
            target = m.target.text(m.unit) if m.target else NONE
            met = {True: "[green]yes[/]", False: "[red]NO[/]", None: NONE}[m.met]
            out.add_row(f"{bench}: {m.name}", _fmt(m.value, m.unit), baseline, ratio, target, met)
    return out


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return NONE
    if unit == "s":
        return f"{value:.3f} s"
    return f"{value:,.1f} {unit}"


def write_json(
    results: Mapping[str, Sequence[Measurement]], errors: Mapping[str, str], *, quick: bool
) -> Path:
    """Write ``results/<timestamp>.json`` and ``results/latest.json``; return the first."""
    now = datetime.now(UTC)
    data = {
        "timestamp": now.isoformat(timespec="seconds"),
        "quick": quick,
        "machine": _machine(),
        "git": _git(),
        "benchmarks": {name: [m.to_json() for m in ms] for name, ms in results.items()},
        "errors": dict(errors),
    }
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    path = RESULTS / f"{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")
    return path


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def print_table(results: Mapping[str, Sequence[Measurement]]) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)  # a log file gets the whole table, unwrapped
    console.print(table(results))
