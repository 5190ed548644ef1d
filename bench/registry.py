"""The benchmarks, by name, in the order they run. Add new ones here explicitly."""

from __future__ import annotations

from collections.abc import Callable

from bench import daemon, flow_report, http, intake, postgres, simulate, validate
from bench.measure import Measurement, Settings

Benchmark = Callable[[Settings], list[Measurement]]

BENCHMARKS: dict[str, Benchmark] = {
    "validate": validate.run,
    "simulate": simulate.run,
    "intake": intake.run,
    "daemon": daemon.run,
    "postgres": postgres.run,
    "http": http.run,
    "report": flow_report.run,
}
