"""Compile a validated Flow document into a :class:`Program` the engine runs.

Compiling resolves step ids, links every step to the one that follows it
(the last step of a branch links to the step after its parent decision,
split or wait_until, so a ``goto`` into a branch goes on correctly), and
parses conditions, durations, times of day and weekdays once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time, timedelta, tzinfo
from typing import Any

from flowctl.engine.conditions import Condition, compile_condition
from flowctl.engine.timing import SendWindow
from flowctl.errors import InvalidValue
from flowctl.timeutil import get_zone, parse_duration, parse_time_of_day, weekday_index

ACTION_TYPES = frozenset(
    {
        "send_email",
        "send_sms",
        "add_tag",
        "remove_tag",
        "subscribe_campaign",
        "unsubscribe_campaign",
        "update_contact",
        "create_activity",
        "notify",
        "create_sale",
        "create_appointment",
        "create_ticket",
        "add_to_selection",
        "add_to_project",
        "enroll_course",
        "revoke_course",
        "start_flow",
        "webhook",
    }
)
TITLED_ACTIONS = frozenset(
    {"create_activity", "create_sale", "create_appointment", "create_ticket"}
)
"""Actions whose key ``title`` names what they create (and is the step's title too)."""
CONTROL_TYPES = frozenset({"delay", "wait_until", "decision", "split", "goto", "end"})
WAITING_TYPES = frozenset({"delay", "wait_until"})


@dataclass(frozen=True, slots=True)
class Step:
    """A step: its ``id``, ``type``, the step that follows it (``next``, ``None`` = the end)."""

    id: str
    type: str
    next: str | None
    title: str | None
    parent: str | None
    """The decision, split or wait_until whose branch holds this step."""

    @property
    def branches(self) -> tuple[tuple[str, str | None], ...]:
        """Labelled exits besides ``next``: ``then``/``else``, variants, ``met``/``timeout``."""
        return ()


@dataclass(frozen=True, slots=True)
class ActionStep(Step):
    """An action of spec §5.1; ``params`` holds its keys (``mailing``, ``tag`` …)."""

    params: Mapping[str, Any]
    span: timedelta | None
    """``create_activity.due`` or ``create_appointment.in``, parsed."""


@dataclass(frozen=True, slots=True)
class DelayStep(Step):
    """A ``delay``: one of ``duration``, ``until`` (+ ``days``), ``until_date`` (+ ``offset``)."""

    duration: timedelta | None
    until: time | None
    days: frozenset[int] | None
    until_date: str | None
    offset: timedelta


@dataclass(frozen=True, slots=True)
class WaitUntilStep(Step):
    """A ``wait_until``: ``condition``, ``timeout``; ``on_timeout`` is its branch's first step."""

    condition: Condition
    timeout: timedelta
    on_timeout: str | None

    @property
    def branches(self) -> tuple[tuple[str, str | None], ...]:
        return (("met", self.next), ("timeout", self.on_timeout))


@dataclass(frozen=True, slots=True)
class DecisionStep(Step):
    """A ``decision``: ``then_step``/``else_step`` are the branches' first steps (or ``next``)."""

    condition: Condition
    then_step: str | None
    else_step: str | None

    @property
    def branches(self) -> tuple[tuple[str, str | None], ...]:
        return (("then", self.then_step), ("else", self.else_step))


@dataclass(frozen=True, slots=True)
class Variant:
    """A split variant: ``name``, ``weight``, its first step; ``upto``: the cumulative weight."""

    name: str
    weight: int
    first: str | None
    upto: int


@dataclass(frozen=True, slots=True)
class SplitStep(Step):
    """An A/B ``split``."""

    variants: tuple[Variant, ...]

    @property
    def branches(self) -> tuple[tuple[str, str | None], ...]:
        return tuple((v.name, v.first) for v in self.variants)


@dataclass(frozen=True, slots=True)
class GotoStep(Step):
    """A ``goto`` to ``target``."""

    target: str


@dataclass(frozen=True, slots=True)
class EndStep(Step):
    """An ``end``: the participant completes."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """A trigger: event ``type``, the params that narrow it, and its own ``filter``."""

    type: str
    params: Mapping[str, Any]
    filter: Condition | None


@dataclass(frozen=True, slots=True)
class Success:
    """Success criteria (spec §7)."""

    when: Condition
    stop: bool
    transfer_to: str | None


@dataclass(frozen=True, slots=True)
class Program:
    """A compiled flow. ``steps`` maps every step id (branches included) to its step,
    in document order; ``first`` is the first step, ``top`` the top-level ids."""

    name: str
    version: int
    title: str | None
    timezone: str
    zone: tzinfo
    triggers: tuple[Trigger, ...]
    filter: Condition | None
    reentry: str
    reentry_after: timedelta | None
    steps: Mapping[str, Step]
    first: str | None
    top: tuple[str, ...]
    success: Success | None
    exit_when: Condition | None
    send_window: SendWindow | None
    contact_timezone: bool
    on_update: str
    history_retention: timedelta
    doc: Mapping[str, Any]


def compile_flow(doc: Mapping[str, Any], version: int = 1) -> Program:
    """Compile a validated Flow document (a plain dict as YAML loads it).

    Raises :class:`~flowctl.errors.InvalidValue` for a value the engine cannot
    use (a bad duration, a goto to an unknown step …) with where it is.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("spec"), Mapping):
        raise InvalidValue("a Flow document needs a 'spec' mapping", hint="see spec §3")
    meta = doc.get("metadata") or {}
    name = str(meta.get("name", "flow"))
    spec: Mapping[str, Any] = doc["spec"]
    where = f"flow {name}"
    tz_name = str(spec.get("timezone", "UTC"))
    steps_src = spec.get("steps")
    if not isinstance(steps_src, list) or not steps_src:
        raise InvalidValue("a flow needs at least one step in 'steps'", where=where)
    triggers_src = spec.get("triggers")
    if not isinstance(triggers_src, list) or not triggers_src:
        raise InvalidValue("a flow needs at least one trigger in 'triggers'", where=where)
    linker = _Linker(where)
    top = linker.link(steps_src, after=None, parent=None)
    for step in linker.steps.values():
        if isinstance(step, GotoStep) and step.target not in linker.steps:
            raise InvalidValue(
                f"goto '{step.id}' jumps to unknown step '{step.target}'",
                where=where,
                hint="name the id of a step in this flow",
            )
    reentry = str(spec.get("reentry", "never"))
    if reentry not in ("never", "after_exit"):
        raise InvalidValue(f"reentry must be never or after_exit, not {reentry!r}", where=where)
    return Program(
        name=name,
        version=version,
        title=meta.get("title"),
        timezone=tz_name,
        zone=get_zone(tz_name),
        triggers=tuple(_trigger(t, f"{where}: triggers[{i}]") for i, t in enumerate(triggers_src)),
        filter=_cond(spec.get("filter"), f"{where}: filter"),
        reentry=reentry,
        reentry_after=_span(spec.get("reentry_after"), f"{where}: reentry_after"),
        steps=linker.steps,
        first=top[0] if top else None,
        top=tuple(top),
        success=_success(spec.get("success"), f"{where}: success"),
        exit_when=_cond(spec.get("exit_when"), f"{where}: exit_when"),
        send_window=_window(spec.get("send_window"), f"{where}: send_window"),
        contact_timezone=bool(spec.get("contact_timezone", False)),
        on_update=str(spec.get("on_update", "migrate")),
        history_retention=_span(spec.get("history_retention"), where) or timedelta(days=30),
        doc=doc,
    )


class _Linker:
    """Walks the step lists depth-first, giving each step its successor."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.steps: dict[str, Step] = {}

    def link(self, items: Any, after: str | None, parent: str | None) -> list[str]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise InvalidValue(f"steps must be a list, got {items!r}", where=self.where)
        ids = [self._id(item) for item in items]
        for i, item in enumerate(items):
            nxt = ids[i + 1] if i + 1 < len(ids) else after
            self._step(item, ids[i], nxt, parent)
        return ids

    def _id(self, item: Any) -> str:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise InvalidValue(f"every step needs an 'id', got {item!r}", where=self.where)
        return str(item["id"])

    def _first(self, items: Any, after: str | None, parent: str) -> str | None:
        ids = self.link(items, after, parent)
        return ids[0] if ids else after

    def _step(self, src: Mapping[str, Any], sid: str, nxt: str | None, parent: str | None) -> None:
        where = f"{self.where}: step {sid}"
        if sid in self.steps:
            raise InvalidValue(f"step id '{sid}' is used twice", where=self.where)
        kind = str(src.get("type"))
        base: dict[str, Any] = {
            "id": sid,
            "type": kind,
            "next": nxt,
            "title": src.get("title"),
            "parent": parent,
        }
        # register first: the parent precedes its branches in document order
        self.steps[sid] = Step(**base)
        step: Step
        if kind in ACTION_TYPES:
            skipped = ("id", "type") if kind in TITLED_ACTIONS else ("id", "type", "title")
            params = {k: v for k, v in src.items() if k not in skipped}
            span_key = {"create_activity": "due", "create_appointment": "in"}.get(kind)
            span = _span(params.get(span_key), where) if span_key else None
            step = ActionStep(**base, params=params, span=span)
        elif kind == "delay":
            step = _delay(src, base, where)
        elif kind == "wait_until":
            timeout = _span(src.get("timeout"), where)
            if timeout is None:
                raise InvalidValue("wait_until needs a 'timeout'", where=where)
            cond = compile_condition(src.get("condition"), f"{where}: condition")
            first = self._first(src.get("on_timeout"), nxt, sid)
            step = WaitUntilStep(**base, condition=cond, timeout=timeout, on_timeout=first)
        elif kind == "decision":
            cond = compile_condition(src.get("if"), f"{where}: if")
            then_step = self._first(src.get("then"), nxt, sid)
            else_step = self._first(src.get("else"), nxt, sid)
            step = DecisionStep(**base, condition=cond, then_step=then_step, else_step=else_step)
        elif kind == "split":
            step = SplitStep(**base, variants=self._variants(src.get("variants"), nxt, sid, where))
        elif kind == "goto":
            step = GotoStep(**base, target=str(src.get("step")))
        elif kind == "end":
            step = EndStep(**base)
        else:
            raise InvalidValue(f"unknown step type {kind!r}", where=where)
        self.steps[sid] = step

    def _variants(self, src: Any, nxt: str | None, sid: str, where: str) -> tuple[Variant, ...]:
        if not isinstance(src, list) or not src:
            raise InvalidValue("a split needs a list of 'variants'", where=where)
        out: list[Variant] = []
        upto = 0
        for item in src:
            weight = whole_number(item.get("weight") if isinstance(item, Mapping) else None)
            if weight is None or weight < 0:
                shown = item.get("weight") if isinstance(item, Mapping) else item
                raise InvalidValue(f"variant weights are whole numbers, not {shown!r}", where=where)
            upto += weight
            first = self._first(item.get("steps"), nxt, sid)
            out.append(Variant(str(item.get("name")), weight, first, upto))
        if upto != 100:
            raise InvalidValue(f"split weights sum to {upto}, not 100", where=where)
        return tuple(out)


def _delay(src: Mapping[str, Any], base: dict[str, Any], where: str) -> DelayStep:
    given = [k for k in ("duration", "until", "until_date") if k in src]
    if len(given) != 1:
        raise InvalidValue("a delay takes exactly one of duration, until, until_date", where=where)
    duration = _span(src.get("duration"), where)
    if duration is not None and duration <= timedelta(0):
        raise InvalidValue("a delay's duration must be more than zero", where=where)
    until = parse_time_of_day(src["until"]) if "until" in src else None
    days = _days(src.get("days"), where)
    until_date = src.get("until_date")
    offset = _span(src.get("offset"), where) or timedelta(0)
    return DelayStep(
        **base,
        duration=duration,
        until=until,
        days=days,
        until_date=None if until_date is None else str(until_date),
        offset=offset,
    )


def _days(src: Any, where: str) -> frozenset[int] | None:
    if src is None:
        return None
    if not isinstance(src, list) or not src:
        raise InvalidValue("days must be a non-empty list such as [mon, tue]", where=where)
    return frozenset(weekday_index(str(d)) for d in src)


def _span(src: Any, where: str) -> timedelta | None:
    if src is None:
        return None
    try:
        return parse_duration(src)
    except InvalidValue as exc:
        raise InvalidValue(exc.message, where=where) from exc


def _cond(src: Any, where: str) -> Condition | None:
    return None if src is None else compile_condition(src, where)


def _trigger(src: Any, where: str) -> Trigger:
    if not isinstance(src, Mapping) or "type" not in src:
        raise InvalidValue(f"a trigger needs a 'type', got {src!r}", where=where)
    params = {k: v for k, v in src.items() if k not in ("type", "filter")}
    return Trigger(str(src["type"]), params, _cond(src.get("filter"), f"{where}: filter"))


def _success(src: Any, where: str) -> Success | None:
    if src is None:
        return None
    if not isinstance(src, Mapping) or "when" not in src:
        raise InvalidValue("success needs a 'when' condition", where=where)
    stop = str(src.get("on_success", "stop")) != "continue"
    target = src.get("transfer_to")
    return Success(compile_condition(src["when"], f"{where}: when"), stop, target)


def _window(src: Any, where: str) -> SendWindow | None:
    if src is None:
        return None
    start = parse_time_of_day(src.get("from", "00:00"))
    end_text = src.get("to")
    end = time.max if end_text in (None, "24:00") else parse_time_of_day(end_text)
    if not start < end:
        raise InvalidValue("send_window 'from' must be before 'to'", where=where)
    days = _days(src.get("days"), where) or frozenset(range(7))
    return SendWindow(days, start, end)


def step_ids(program: Program) -> Sequence[str]:
    """Every step id in document order (branches after their parent)."""
    return list(program.steps)


def whole_number(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (YAML's ``50.0`` too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
