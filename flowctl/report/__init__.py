"""How a flow performs: its figures for a period, and renderers for them.

:mod:`~flowctl.report.figures` computes a :class:`Report` from the store
(no printing, no rich); :mod:`~flowctl.report.jsonout` turns it into the
CLI's JSON, :mod:`~flowctl.report.terminal` into rich output and
:mod:`~flowctl.report.html` into one self-contained HTML page.
"""

from __future__ import annotations

from flowctl.report.figures import MailingFigures, Report, StepFigures, build_report
from flowctl.report.jsonout import report_json
from flowctl.report.text import parse_day

__all__ = [
    "MailingFigures",
    "Report",
    "StepFigures",
    "build_report",
    "parse_day",
    "report_json",
]
