"""Property tests: the engine is deterministic and statuses are consistent."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from flowctl.engine import STATUSES, WAITING, Event, Result, advance, consider_entry
from tests.engine.helpers import T0, flow

PROGRAM = flow(
    [
        {"id": "tag", "type": "add_tag", "tag": "seen"},
        {"id": "d1", "type": "delay", "duration": "1d"},
        {
            "id": "dec",
            "type": "decision",
            "if": {"tag": "vip"},
            "then": [{"id": "mail", "type": "send_email", "mailing": "m"}],
            "else": [
                {
                    "id": "w",
                    "type": "wait_until",
                    "condition": {"event": "form_submitted"},
                    "timeout": "2d",
                }
            ],
        },
        {
            "id": "ab",
            "type": "split",
            "variants": [
                {
                    "name": "a",
                    "weight": 50,
                    "steps": [{"id": "loop", "type": "goto", "step": "d1"}],
                },
                {"name": "b", "weight": 50, "steps": []},
            ],
        },
    ],
    success={"when": {"event": "sale_created"}, "on_success": "continue"},
    exit_when={"tag": "stop"},
    send_window={"from": "09:00", "to": "17:00"},
)

event_types = st.sampled_from(["form_submitted", "sale_created", "tag_added", "page_visited"])
events_strategy = st.lists(
    st.tuples(event_types, st.integers(min_value=0, max_value=6 * 24 * 60)), max_size=6
)
contacts = st.fixed_dictionaries(
    {
        "id": st.text(alphabet="abcdef0123456789", min_size=1, max_size=8),
        "email": st.just("x@example.com"),
        "tags": st.lists(st.sampled_from(["vip", "stop", "other"]), max_size=2),
    }
)


def _drive(person: dict[str, object], raw: list[tuple[str, int]]) -> list[Result]:
    events = sorted((Event(t, T0 + timedelta(minutes=m), {}) for t, m in raw), key=lambda e: e.at)
    entry = Event("manual", T0, {})
    decision = consider_entry(PROGRAM, entry, person, T0)
    assert decision.state is not None
    seen = [entry]
    state = decision.state
    results = []
    now = T0
    pending = list(events)
    for _ in range(40):
        result = advance(PROGRAM, state, person, seen, now)
        results.append(result)
        state = result.state
        seen.extend(result.emitted)
        if not state.live:
            break
        if pending and (state.due is None or pending[0].at <= state.due):
            nxt = pending.pop(0)
            seen.append(nxt)
            now = nxt.at
        elif state.due is not None:
            now = state.due
    return results


@settings(max_examples=60, deadline=None)
@given(contacts, events_strategy)
def test_engine_is_deterministic(person: dict[str, object], raw: list[tuple[str, int]]) -> None:
    assert _drive(person, raw) == _drive(person, raw)


@settings(max_examples=60, deadline=None)
@given(contacts, events_strategy)
def test_status_is_one_and_due_iff_waiting(
    person: dict[str, object], raw: list[tuple[str, int]]
) -> None:
    for result in _drive(person, raw):
        state = result.state
        assert state.status in STATUSES
        assert (state.due is not None) == (state.status == WAITING)
        assert (state.ended_at is not None) == (not state.live)
