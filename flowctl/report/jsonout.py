"""A :class:`~flowctl.report.figures.Report` as the JSON ``flowctl report -o json`` prints.

The keys of the CLI spec (``flow``, ``participants``, ``succeeded``,
``success_rate``, ``statuses``, ``steps`` with ``reached``/``outcomes``/
``pending``, ``mailings`` with ``sent``/``opened``/``clicked``) plus a few
more: ``title``, ``state``, ``version``, ``period``, ``entries`` (day →
entered), each step's ``type`` and each mailing's rates.
"""

from __future__ import annotations

from typing import Any

from flowctl.report.figures import Report
from flowctl.timeutil import isoformat


def report_json(report: Report) -> dict[str, Any]:
    """The JSON-ready form of ``report``."""
    return {
        "flow": report.flow,
        "title": report.title,
        "state": report.state,
        "version": report.version,
        "period": {
            "since": report.since.isoformat() if report.since else None,
            "until": report.until.isoformat() if report.until else None,
        },
        "generated_at": isoformat(report.generated_at),
        "participants": report.participants,
        "succeeded": report.succeeded,
        "success_rate": report.success_rate,
        "statuses": dict(report.statuses),
        "entries": {day.isoformat(): n for day, n in report.entries},
        "steps": {
            s.id: {
                "type": s.type,
                "reached": s.reached,
                "outcomes": dict(s.outcomes),
                "pending": s.pending,
            }
            for s in report.steps
        },
        "mailings": {
            m.name: {
                "sent": m.sent,
                "opened": m.opened,
                "clicked": m.clicked,
                "open_rate": m.open_rate,
                "click_rate": m.click_rate,
            }
            for m in report.mailings
        },
    }
