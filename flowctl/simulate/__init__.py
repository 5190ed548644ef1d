"""Drivers of the engine without a store: one contact, a population, FlowTests.

- :func:`simulate` — one contact on a virtual clock (``flowctl simulate``);
- :func:`forecast` — a population (``flowctl simulate --participants``);
- :func:`run_flow_test` / :func:`run_flow_test_file` — FlowTest documents
  (``flowctl test``).

They only return data (``to_dict()`` gives the CLI's JSON keys); they never
print. Bad input raises :class:`~flowctl.errors.InputError`.
"""

from __future__ import annotations

from flowctl.simulate.content import ContentIndex
from flowctl.simulate.flowtest import (
    TestCaseResult,
    broken_case,
    load_documents,
    run_flow_test,
    run_flow_test_file,
)
from flowctl.simulate.inputs import check_contact, parse_events
from flowctl.simulate.population import ForecastResult, StepCount, forecast
from flowctl.simulate.single import DEFAULT_HORIZON, SimulationResult, simulate

__all__ = [
    "DEFAULT_HORIZON",
    "ContentIndex",
    "ForecastResult",
    "SimulationResult",
    "StepCount",
    "TestCaseResult",
    "broken_case",
    "check_contact",
    "forecast",
    "load_documents",
    "parse_events",
    "run_flow_test",
    "run_flow_test_file",
    "simulate",
]
