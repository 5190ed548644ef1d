"""Intake is sequential whatever its batches: a file imported or ingested in batches
of any size leaves the store as one taken row by row would (property tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from flowctl.load.records import Record
from flowctl.operate import intake
from flowctl.store import Store, open_store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EMAILS = ["ann@x.com", "bo@x.com", "cy@x.com"]
IDS = ["a", "b", "c"]

emails = st.sampled_from(EMAILS + [e.upper() for e in EMAILS])
contact = st.one_of(
    st.fixed_dictionaries({"email": emails}),
    st.fixed_dictionaries({"id": st.sampled_from(IDS)}),
    st.fixed_dictionaries({"id": st.sampled_from(IDS), "email": emails}),
)
changes = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(EMAILS),
        "id": st.sampled_from(IDS),
        "n": st.integers(0, 2),
    },
)
event = st.fixed_dictionaries(
    {
        "contact": contact,
        "type": st.sampled_from(
            ["page_visited", "tag_added", "tag_removed", "contact_updated", "contact_updated"]
        ),
    },
    optional={"id": st.sampled_from(["e1", "e2", "e3", "e4", "e5"])},
).flatmap(
    lambda e: (
        st.just(e)
        if e["type"] == "page_visited"
        else (
            changes.map(lambda s: {**e, "data": {"set": s}})
            if e["type"] == "contact_updated"
            else st.sampled_from(["t", "u"]).map(lambda tag: {**e, "data": {"tag": tag}})
        )
    )
)
CONTACTS = [
    Record(1, {"id": "a", "email": "ann@x.com"}),
    Record(2, {"id": "b", "email": "bo@x.com"}),
    Record(3, {"email": "cy@x.com"}),
]


def _after(take: Callable[..., Any], rows: list[dict[str, Any]], size: int) -> tuple[Any, ...]:
    """What ``take`` (``import_contacts`` or ``ingest_events``) of ``rows`` in batches
    of ``size`` returns and leaves in a store that held ``CONTACTS``."""
    with open_store(":memory:") as store:
        intake.import_contacts(store, CONTACTS, NOW)
        records = [Record(n, row) for n, row in enumerate(rows, start=1)]
        result = take(store, records, NOW, batch_size=size)
        return result.to_dict(), _contents(store)


def _contents(store: Store) -> tuple[Any, ...]:
    contacts = store.contacts(limit=100)
    return (
        [(c.cid, dict(c.data)) for c in contacts],
        [(c.cid, store.events_for(c.cid)) for c in contacts],
    )


TAKE_A_KEY_GIVEN_UP = [
    {"type": "tag_added", "contact": {"email": "bo@x.com"}, "data": {"tag": "t"}},
    {"type": "contact_updated", "contact": {"id": "a"}, "data": {"set": {"id": "c"}}},
    {"type": "contact_updated", "contact": {"email": "bo@x.com"}, "data": {"set": {"id": "a"}}},
]
"""Contact b, changed first, then takes the id contact a gives up: one batch writes
b's new keys before a's."""


@settings(max_examples=300, deadline=None)
@given(st.lists(event, max_size=20), st.integers(2, 8))
@example(TAKE_A_KEY_GIVEN_UP, 3)
def test_batches_do_not_change_what_ingest_does(events: list[dict[str, Any]], size: int) -> None:
    one_by_one = _after(intake.ingest_events, events, 1)
    assert _after(intake.ingest_events, events, size) == one_by_one
    assert _after(intake.ingest_events, events, len(events) + 1) == one_by_one


row = st.fixed_dictionaries(
    {},
    optional={"id": st.sampled_from(IDS), "email": emails, "n": st.integers(0, 2)},
)


@settings(max_examples=200, deadline=None)
@given(st.lists(row, max_size=15), st.integers(2, 8))
@example(
    [{"id": "b", "n": 1}, {"id": "a", "email": "new@x.com"}, {"id": "b", "email": "ann@x.com"}], 3
)
def test_batches_do_not_change_what_import_does(rows: list[dict[str, Any]], size: int) -> None:
    one_by_one = _after(intake.import_contacts, rows, 1)
    assert _after(intake.import_contacts, rows, size) == one_by_one
    assert _after(intake.import_contacts, rows, len(rows) + 1) == one_by_one
