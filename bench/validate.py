"""validate: ``flowctl validate`` against ``check-jsonschema`` on the same 1,000 flows.

Targets (issue 2): flowctl's wall time on the folder at most 0.5 times that of
``check-jsonschema --schemafile schemas/flow.schema.json`` on the same files,
while flowctl also runs every lint rule; one file validated in under 0.3 s
wall (editors and pre-commit call it per file).
"""

from __future__ import annotations

from bench.gen_flows import generate
from bench.measure import REPO, BenchError, Measurement, Run, Settings, Target, best_of, tool

FLOWS, FLOWS_QUICK = 1000, 100


def run(settings: Settings) -> list[Measurement]:
    count = FLOWS_QUICK if settings.quick else FLOWS
    repeats = {"folder": 2 if settings.quick else 3, "schema": 1 if settings.quick else 2, "one": 5}
    data = settings.data_dir / f"validate-{count}"
    files = generate(data, count)
    flowctl, checker = tool("flowctl"), tool("check-jsonschema")
    schema = str(REPO / "schemas" / "flow.schema.json")

    folder = best_of(repeats["folder"], [flowctl, "validate", str(data)])
    _expect_clean(folder[0], len(files.all))
    checked = best_of(repeats["schema"], [checker, "--schemafile", schema, *map(str, files.all)])
    one_file = str(files.flows[0])
    one = best_of(repeats["one"], [flowctl, "validate", one_file])
    sizes = {"files": len(files.all), "flows": len(files.flows), "content": len(files.content)}
    return [
        Measurement(
            f"folder, {count:,} flows + {len(files.content)} content files",
            folder[0].wall,
            "s",
            baseline=checked[0].wall,
            baseline_name="check-jsonschema",
            target=Target(0.5, of="ratio"),
            detail={
                **sizes,
                "flowctl_runs": [r.wall for r in folder],
                "check_jsonschema_runs": [r.wall for r in checked],
                "flowctl_peak_rss_mb": folder[0].peak_rss_mb,
                "check_jsonschema_peak_rss_mb": checked[0].peak_rss_mb,
            },
        ),
        Measurement(
            "one flow file",
            one[0].wall,
            "s",
            target=Target(0.3, inclusive=False),
            detail={
                "file": one_file,
                "runs": [r.wall for r in one],
                "peak_rss_mb": one[0].peak_rss_mb,
            },
        ),
        Measurement("folder, flowctl peak RSS", folder[0].peak_rss_mb, "MB"),
    ]


def _expect_clean(run: Run, files: int) -> None:
    """The generated files must be valid with no warnings, or the comparison is off."""
    expected = f"{files} files valid"
    if expected not in run.stdout:
        raise BenchError(f"flowctl found problems in generated flows:\n{run.stdout[-3000:]}")
