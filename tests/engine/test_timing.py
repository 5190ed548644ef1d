"""Send windows, contact time zones and DST-correct wall-clock arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flowctl.engine.timing import SendWindow, add_span, next_time_of_day
from tests.engine.helpers import contact, enter, flow, outcomes, resume

OSLO = ZoneInfo("Europe/Oslo")


def test_send_window_across_dst_opens_at_local_nine() -> None:
    # Sat 2026-03-28 20:00 Oslo (CET); DST starts Sun 03-29; next open is Mon 09:00 CEST
    program = flow(
        [{"id": "mail", "type": "send_email", "mailing": "m"}],
        timezone="Europe/Oslo",
        send_window={"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "17:00"},
    )
    start = datetime(2026, 3, 28, 20, 0, tzinfo=OSLO)
    result, events = enter(program, at=start)
    assert result.state.status == "waiting"
    assert result.state.hold == "send_window"
    due = result.state.due
    assert due is not None
    assert due.astimezone(OSLO).replace(tzinfo=None) == datetime(2026, 3, 30, 9, 0)
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    sent = resume(program, result, events)
    assert outcomes(sent) == [("mail", "sent")]


def test_send_window_inside_sends_at_once() -> None:
    window = SendWindow(frozenset(range(7)), time(9), time(17))
    now = datetime(2026, 3, 2, 10, 0, tzinfo=OSLO)
    assert window.opens_at(now, OSLO) == now


def test_contact_timezone_uses_contacts_zone_for_window() -> None:
    program = flow(
        [{"id": "mail", "type": "send_email", "mailing": "m"}],
        send_window={"from": "09:00", "to": "17:00"},
        contact_timezone=True,
    )
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo
    result, _ = enter(program, contact(timezone="Asia/Tokyo"), at=start)
    assert result.state.due == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 09:00 Tokyo
    local, _ = enter(program, contact(), at=start)
    assert outcomes(local) == [("mail", "sent")]


def test_add_span_days_keep_wall_clock_across_dst() -> None:
    before = datetime(2026, 3, 28, 9, 0, tzinfo=OSLO)
    after = add_span(before, timedelta(days=2), OSLO)
    assert after.astimezone(OSLO).hour == 9
    assert after - before == timedelta(days=2, hours=-1)


@pytest.mark.parametrize("zone", [OSLO, UTC])
def test_add_span_hours_are_elapsed_whatever_zone_the_moment_is_in(zone: ZoneInfo) -> None:
    midnight = datetime(2026, 3, 29, 0, 0, tzinfo=OSLO)  # clocks go forward at 02:00
    for moment in (midnight, midnight.astimezone(UTC)):
        later = add_span(moment, timedelta(hours=3), zone)
        assert later.astimezone(UTC) - midnight.astimezone(UTC) == timedelta(hours=3)
        assert later.astimezone(OSLO).hour == 4
    day_and_hours = add_span(
        datetime(2026, 3, 28, 1, 30, tzinfo=OSLO), timedelta(days=1, hours=2), OSLO
    )
    assert day_and_hours.astimezone(OSLO).replace(tzinfo=None) == datetime(2026, 3, 29, 4, 30)


def test_next_time_of_day_across_dst_and_equal_to_now() -> None:
    now = datetime(2026, 10, 24, 10, 0, tzinfo=OSLO)  # DST ends Sunday 10-25
    nxt = next_time_of_day(now, time(9), frozenset({6}), OSLO)
    assert nxt.astimezone(OSLO).replace(tzinfo=None) == datetime(2026, 10, 25, 9, 0)
    exact = datetime(2026, 10, 24, 9, 0, tzinfo=OSLO)
    assert next_time_of_day(exact, time(9), None, OSLO) == exact
