"""``flowctl report`` over a flow with 1,000,000 participations and 10 steps.

Targets: the report renders in under 1 s in the terminal and under 2 s as
the HTML page. Each run opens the store, computes the figures
(:func:`~flowctl.report.build_report`) and renders them (rich into a
120-column console writing to memory; the HTML page as text); the best of
three runs counts, and the time spent computing the figures is given apart
in ``detail``.

The store is set up once with SQL ``executemany`` straight into the store's
own tables (setup only, not timed) and kept in ``bench/.data``: the flow
(10 steps: two e-mails, delays, a wait_until with a reminder, a decision
with two branches), a year of per-step and daily counters as the daemon
writes them, and the participations: 85% finished (completed, succeeded,
exited) and 15% waiting in the flow's three delays and its wait_until.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import BenchError, Measurement, Settings, Target
from flowctl.report import Report, build_report
from flowctl.store import FLOW, StoredDocument, open_store

FLOW_NAME = "bench-nurture"
ROWS = 1_000_000
ROWS_QUICK = 100_000
DAYS = 365
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TERMINAL = Target(1.0, inclusive=False)
HTML = Target(2.0, inclusive=False)
STEPS: list[dict[str, Any]] = [
    {"id": "welcome", "type": "send_email", "mailing": "welcome"},
    {"id": "wait-2d", "type": "delay", "duration": "2d"},
    {"id": "case-study", "type": "send_email", "mailing": "case-study"},
    {
        "id": "wait-click",
        "type": "wait_until",
        "condition": {"event": "email_link_clicked", "mailing": "case-study"},
        "timeout": "5d",
        "on_timeout": [{"id": "reminder", "type": "send_email", "mailing": "reminder"}],
    },
    {
        "id": "engaged",
        "type": "decision",
        "if": {"event": "email_link_clicked"},
        "then": [{"id": "tag-hot", "type": "add_tag", "tag": "hot"}],
        "else": [
            {"id": "wait-week", "type": "delay", "duration": "1w"},
            {"id": "last-chance", "type": "send_email", "mailing": "last-chance"},
        ],
    },
]
WAITS = ("wait-2d", "wait-click", "wait-week")
"""Where the live participants wait."""


def run(settings: Settings) -> list[Measurement]:
    count = ROWS_QUICK if settings.quick else ROWS
    folder = settings.data_dir / "report"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"store-{count}.db"
    if not path.exists():
        _setup(path, count)
    from flowctl.report.html import render_html
    from flowctl.report.terminal import render

    def terminal(report: Report) -> str:
        from rich.console import Console

        out = io.StringIO()
        render(report, Console(file=out, width=120, force_terminal=True, color_system="truecolor"))
        return out.getvalue()

    results = []
    for name, renderer, target in (("terminal", terminal, TERMINAL), ("html", render_html, HTML)):
        runs = [_time(path, renderer) for _ in range(3)]
        best = min(runs, key=lambda r: r[0])
        detail = {"runs_s": [r[0] for r in runs], "figures_s": best[1], "output_chars": best[2]}
        results.append(
            Measurement(
                f"report of {count:,} participations, 10 steps: {name}",
                best[0],
                "s",
                target=target,
                detail=detail,
            )
        )
    return results


def _time(path: Path, renderer: Callable[[Report], str]) -> tuple[float, float, int]:
    start = time.perf_counter()
    with open_store(str(path), create=False) as store:
        report = build_report(store, FLOW_NAME, now=NOW)
        figures = time.perf_counter() - start
        text = renderer(report)
    total = time.perf_counter() - start
    if report.participants == 0 or FLOW_NAME not in text:
        raise BenchError(f"the report of {path} came out empty")
    return total, figures, len(text)


def _setup(path: Path, count: int) -> None:
    """Create the store (schema, flow) through the API, then bulk-load rows with SQL."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    document = {
        "apiVersion": "flowctl/v1",
        "kind": "Flow",
        "metadata": {"name": FLOW_NAME, "title": "Benchmark nurture flow"},
        "spec": {"triggers": [{"type": "form_submitted", "form": "contact"}], "steps": STEPS},
    }
    with open_store(str(tmp)) as store:
        store.add_version(StoredDocument(FLOW, FLOW_NAME, 1, "bench", "", document, NOW, "bench"))
        store.set_flow_state(FLOW_NAME, "active", NOW - timedelta(days=DAYS))
    db = sqlite3.connect(tmp)
    with db:
        db.executemany(
            "INSERT INTO participants (id, flow, version, cid, contact, status, step, due,"
            " entered_at, succeeded_at, ended_at, reason, data) VALUES"
            " (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _participants(count),
        )
        db.executemany("INSERT INTO step_counts VALUES (?, ?, ?, ?, ?)", _step_counts(count))
        db.executemany("INSERT INTO daily_counts VALUES (?, ?, ?, ?)", _daily_counts(count))
    db.close()
    tmp.rename(path)


def _participants(count: int) -> Any:
    rng = random.Random(7)
    first = NOW - timedelta(days=DAYS)
    for i in range(count):
        entered = first + timedelta(seconds=rng.randrange(DAYS * 86400))
        roll = rng.random()
        status, step, due, ended, succeeded, reason = "completed", None, None, None, None, None
        if roll < 0.15:
            status, step, due = "waiting", WAITS[i % 3], _ts(NOW + timedelta(days=1))
        else:
            ended = _ts(entered + timedelta(days=9))
            if roll < 0.20:
                status, succeeded, reason = "succeeded", ended, "success"
            elif roll < 0.25:
                status, reason = "exited", "exit_when"
        trigger = {"type": "form_submitted", "at": _ts(entered), "data": {"form": "contact"}}
        data = {
            "trigger": trigger,
            "visits": {"welcome": 1, "wait-2d": 1},
            "step_count": 2,
            "hold": "delay" if status == "waiting" else None,
            "wait_since": None,
        }
        contact = f"c{i}"
        yield (
            f"{FLOW_NAME}/{contact}/{int(entered.timestamp())}",
            FLOW_NAME,
            i + 1,
            contact,
            status,
            step,
            due,
            _ts(entered),
            succeeded,
            ended,
            reason,
            json.dumps(data),
        )


def _step_counts(count: int) -> Any:
    per_day = count // DAYS
    outcomes = {
        "welcome": {"sent": 1.0},
        "wait-2d": {"waited": 0.98},
        "case-study": {"sent": 0.95, "suppressed": 0.02},
        "wait-click": {"met": 0.3, "timeout": 0.6},
        "reminder": {"sent": 0.6},
        "engaged": {"then": 0.35, "else": 0.55},
        "tag-hot": {"done": 0.35},
        "wait-week": {"waited": 0.5},
        "last-chance": {"sent": 0.5},
        "-": {"succeeded": 0.05, "exited": 0.05},
    }
    for day in _days():
        for step, shares in outcomes.items():
            for outcome, share in shares.items():
                yield FLOW_NAME, day, step, outcome, int(per_day * share)


def _daily_counts(count: int) -> Any:
    per_day = count // DAYS
    metrics = {
        "entered": 1.0,
        "completed": 0.75,
        "succeeded": 0.05,
        "exited": 0.05,
        "opened:welcome": 0.45,
        "clicked:welcome": 0.1,
        "opened:case-study": 0.4,
        "clicked:case-study": 0.3,
        "opened:reminder": 0.2,
        "opened:last-chance": 0.15,
        "clicked:last-chance": 0.02,
    }
    for day in _days():
        for metric, share in metrics.items():
            yield FLOW_NAME, day, metric, int(per_day * share)


def _days() -> Any:
    first = NOW.date() - timedelta(days=DAYS)
    return ((first + timedelta(days=d)).isoformat() for d in range(DAYS))


def _ts(moment: datetime) -> str:
    """The store's instant text: UTC, fixed width (see ``flowctl.store.sqlite_schema``)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
