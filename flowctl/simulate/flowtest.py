"""FlowTest documents (spec §12): simulate a case and compare with what it expects.

Comparison rules where the spec is silent:

- ``path`` must equal the executed path exactly; ``path_contains`` lists
  step ids that must appear in it in this order (not necessarily adjacent).
- Each expected effect must match a distinct actual effect on every key it
  gives (``step``, ``type``, ``at`` and any param such as ``mailing``);
  ``at`` is an instant or an offset from the start (``+5d``). Order does not
  matter; effects not mentioned are allowed.
- ``start`` defaults to the ``now`` given to the runner, else
  :data:`DEFAULT_START` (a Monday, so send windows behave predictably);
  ``horizon`` (optional in a test) defaults to 400 days.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flowctl.engine import Context, Effect, compile_flow
from flowctl.errors import FlowctlError, InputError
from flowctl.simulate.content import ContentIndex
from flowctl.simulate.inputs import parse_span, parse_start, parse_when
from flowctl.simulate.single import DEFAULT_HORIZON, SimulationResult, simulate

DEFAULT_START = "2026-01-05T09:00:00Z"


@dataclass(frozen=True)
class TestCaseResult:
    """One FlowTest case: ``passed``, readable ``failures``, a unified ``diff``."""

    __test__ = False  # not a pytest class

    name: str
    passed: bool
    failures: tuple[str, ...]
    diff: str
    simulation: SimulationResult | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "passed": self.passed,
            "failures": list(self.failures),
            "diff": self.diff,
        }


def broken_case(name: str, error: FlowctlError) -> TestCaseResult:
    """A case that could not run, failed with the reason (and an invalid file's
    diagnostics)."""
    from flowctl.lint import InvalidDocuments

    reason = str(error)
    if isinstance(error, InvalidDocuments):
        from flowctl.render.diagnostics import render_text

        reason = f"{reason}\n{render_text(error.result).rstrip()}"
    return TestCaseResult(name, False, (reason,), "", None)


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every document of a file, validated first.

    Raises :class:`~flowctl.lint.InvalidDocuments` (with the diagnostics) when
    the file has errors, so a broken flow is reported, not run.
    """
    from flowctl.lint import load_valid

    docs, _ = load_valid([path])
    return [d.data for d in docs if isinstance(d.data, dict)]


def run_flow_test(
    test_doc: Mapping[str, Any],
    base_dir: Path | str,
    *,
    now: datetime | None = None,
    context: Context | None = None,
) -> TestCaseResult:
    """Run one FlowTest document; its ``spec.flow`` is relative to ``base_dir``.

    A broken case (missing flow file, bad event) raises
    :class:`~flowctl.errors.FlowctlError` with what and where.
    """
    meta = test_doc.get("metadata") or {}
    name = str(meta.get("name", "flow-test"))
    spec = test_doc.get("spec")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("flow"), str):
        raise InputError("a FlowTest needs spec.flow, the path of the flow file", where=name)
    flow_path = Path(base_dir) / spec["flow"]
    if not flow_path.is_file():
        raise InputError(
            f"flow file '{spec['flow']}' not found (looked in {flow_path})",
            where=f"FlowTest {name}",
            hint="spec.flow is relative to the test file",
        )
    docs = load_documents(flow_path)
    flows = [d for d in docs if d.get("kind") == "Flow"]
    if not flows:
        raise InputError(f"'{spec['flow']}' holds no Flow document", where=f"FlowTest {name}")
    try:
        program = compile_flow(flows[0])
    except FlowctlError as exc:
        raise InputError(f"the flow cannot be run: {exc}", where=f"FlowTest {name}") from exc
    start = parse_start(spec.get("start") or now or DEFAULT_START, program.zone)
    horizon = parse_span(spec.get("horizon", DEFAULT_HORIZON), "horizon")
    content = ContentIndex.from_documents(docs)
    try:
        sim = simulate(
            program,
            spec.get("contact"),
            spec.get("events"),
            start,
            horizon,
            content,
            context=context,
        )
    except FlowctlError as exc:
        raise InputError(exc.message, where=f"FlowTest {name}: {exc.where or 'input'}") from exc
    expect = spec.get("expect") or {}
    expected, actual, failures = _compare(expect, sim, start, program.zone)
    diff = ""
    if failures:
        diff = "".join(
            difflib.unified_diff(
                _lines(expected), _lines(actual), fromfile="expected", tofile="actual"
            )
        )
    return TestCaseResult(name, not failures, tuple(failures), diff, sim)


def run_flow_test_file(
    path: Path | str, *, now: datetime | None = None, context: Context | None = None
) -> list[TestCaseResult]:
    """Run every FlowTest document of a file (other valid documents are ignored).

    A case that cannot run (an invalid document, a missing flow file, a bad
    event) fails with the reason and the others run; a file that cannot be
    read or parsed fails as one case named after it.
    """
    from flowctl.lint import InvalidDocuments, load_each

    file = Path(path)
    try:
        loaded = load_each(file)
    except FlowctlError as exc:
        return [broken_case(file.stem, exc)]
    cases = []
    for doc, result in loaded:
        name = doc.name or file.stem
        try:
            if not result.valid:
                raise InvalidDocuments(result)
            if doc.kind == "FlowTest":
                cases.append(run_flow_test(doc.data, file.parent, now=now, context=context))
        except FlowctlError as exc:
            cases.append(broken_case(name, exc))
    return cases


def _compare(
    expect: Mapping[str, Any], sim: SimulationResult, start: datetime, zone: Any
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    expected: dict[str, Any] = {}
    actual: dict[str, Any] = {}
    failures: list[str] = []
    left = sim.state.reason if sim.state is not None else None  # why it left (exit_when …)
    for key, have in (
        ("enrolled", sim.enrolled),
        ("reason", sim.reason if not sim.enrolled else left),
        ("status", sim.status),
        ("succeeded", sim.succeeded),
    ):
        if key in expect:
            expected[key], actual[key] = expect[key], have
            if expect[key] != have:
                failures.append(f"{key}: expected {expect[key]!r}, got {have!r}")
    if "path" in expect:
        expected["path"], actual["path"] = list(expect["path"]), list(sim.path)
        if list(expect["path"]) != list(sim.path):
            failures.append(f"path: expected {list(expect['path'])}, got {list(sim.path)}")
    if "path_contains" in expect:
        want = [str(s) for s in expect["path_contains"]]
        expected["path_contains"], actual["path"] = want, list(sim.path)
        if not _in_order(want, sim.path):
            failures.append(f"path does not contain {want} in order; path was {list(sim.path)}")
    if "effects" in expect:
        wanted = list(expect["effects"] or [])
        expected["effects"] = wanted
        actual["effects"] = [_effect_view(e) for e in sim.effects]
        failures.extend(_missing_effects(wanted, sim.effects, start, zone))
    return expected, actual, failures


def _in_order(want: Sequence[str], path: Sequence[str]) -> bool:
    remaining = iter(path)
    return all(any(step == item for step in remaining) for item in want)


def _effect_view(effect: Effect) -> dict[str, Any]:
    view = effect.to_dict()
    view.pop("key", None)
    return view


def _missing_effects(
    wanted: list[Any], effects: Sequence[Effect], start: datetime, zone: Any
) -> list[str]:
    used: set[int] = set()
    failures = []
    for i, want in enumerate(wanted):
        if not isinstance(want, Mapping):
            raise InputError(f"expect.effects[{i}] must be a mapping such as {{step: s, type: t}}")
        match = next(
            (
                j
                for j, eff in enumerate(effects)
                if j not in used and _effect_matches(want, eff, start, zone, i)
            ),
            None,
        )
        if match is None:
            failures.append(f"effect not found: {dict(want)}")
        else:
            used.add(match)
    return failures


def _effect_matches(
    want: Mapping[str, Any], effect: Effect, start: datetime, zone: Any, index: int
) -> bool:
    for key, value in want.items():
        if key == "at":
            if parse_when(value, start, zone, f"expect.effects[{index}].at") != effect.at:
                return False
        elif key == "step":
            if effect.step != value:
                return False
        elif key == "type":
            if effect.type != value:
                return False
        elif effect.params.get(key) != value:
            return False
    return True


def _lines(data: Mapping[str, Any]) -> list[str]:
    return [line + "\n" for line in json.dumps(data, indent=2, default=str).splitlines()]
