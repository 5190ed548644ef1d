"""The contract of :class:`flowctl.store.Store`, run against every backend.

Every test takes the parametrized ``store`` fixture and speaks only the
interface of ``flowctl/store/base.py``: a new backend joins by adding a
factory to :data:`BACKENDS`, and must pass all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from flowctl.engine.state import Event, ParticipantState
from flowctl.errors import Refused
from flowctl.store import AuditEntry, NewEvent, Store, StoredDocument, open_store
from flowctl.store.records import NO_ADDRESS, Attempt, Batch, HistoryRow, NewMessage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def _sqlite(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "contract.db"))


def _postgresql(tmp_path: Path) -> Store:
    from tests.store.conftest import fresh_store

    return fresh_store()


BACKENDS: dict[str, Callable[[Path], Store]] = {"sqlite": _sqlite, "postgresql": _postgresql}
"""Backend name → a factory for a fresh, empty store. PostgreSQL's empties a database
of the test server (``tests/store/conftest.py``), and skips when PostgreSQL is not installed."""


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = BACKENDS[request.param](tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def doc(
    name: str, version: int = 1, *, kind: str = "Flow", at: datetime = T0, **meta: str
) -> StoredDocument:
    """A stored document as ``apply`` would make it."""
    document = {
        "apiVersion": "flowctl/v1",
        "kind": kind,
        "metadata": {"name": name, **meta},
        "spec": {"steps": [{"id": "s1", "type": "end"}], "n": version},
    }
    return StoredDocument(
        kind=kind,
        name=name,
        version=version,
        hash=f"h-{kind}-{name}-{version}",
        source=f"kind: {kind}\nmetadata: {{name: {name}}}\n# v{version}\n",
        document=document,
        created_at=at,
        created_by="ann",
        path=f"flows/{name}.yaml",
    )


# -- housekeeping ------------------------------------------------------------------


def test_schema_version_is_positive(store: Store) -> None:
    assert store.schema_version >= 1


def test_close_twice_is_harmless(store: Store) -> None:
    store.close()
    store.close()


def test_transaction_commits_every_call(store: Store) -> None:
    with store.transaction():
        store.add_version(doc("a"))
        store.set_user("ann", "flow-admin", T0)
    assert store.document("Flow", "a") is not None
    assert store.users() == {"ann": "flow-admin"}


def test_transaction_exception_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_version(doc("a"))
        store.insert_contacts([{"email": "ann@example.com"}], T0)
        store.log(AuditEntry(T0, "ann", "apply", "flow/a"))
        raise RuntimeError("boom")
    assert store.document("Flow", "a") is None
    assert store.flows() == []
    assert store.count_contacts() == 0
    assert store.audit_log() == []
    store.add_version(doc("b"))  # the store is usable afterwards
    assert [f.name for f in store.flows()] == ["b"]


def test_transaction_nested_joins_outer(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_version(doc("outer"))
        with store.transaction():
            store.add_version(doc("inner"))
        raise RuntimeError("boom")
    assert store.documents() == []


def test_transaction_nested_exception_rolls_back_outer(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_version(doc("outer"))
        with store.transaction():
            store.add_version(doc("inner"))
            raise RuntimeError("boom")
    assert store.documents() == []


def test_transaction_invisible_to_others_until_commit(store: Store) -> None:
    with open_store(store.url) as other:
        with store.transaction():
            store.add_version(doc("a"))
            assert other.document("Flow", "a") is None
        assert other.document("Flow", "a") is not None


# -- documents ---------------------------------------------------------------------


def test_documents_empty(store: Store) -> None:
    assert store.document("Flow", "a") is None
    assert store.documents() == []
    assert store.documents("Flow") == []
    assert store.versions("Flow", "a") == []


def test_add_version_round_trips(store: Store) -> None:
    stored = doc("a", at=datetime(2026, 3, 2, 10, 0, tzinfo=CET), title="A")
    store.add_version(stored)
    back = store.document("Flow", "a")
    assert back == stored
    assert back is not None and back.created_at.tzinfo is not None
    assert back.metadata["title"] == "A"


def test_add_version_new_becomes_current(store: Store) -> None:
    store.add_version(doc("a", 1))
    store.add_version(doc("a", 2, at=T0 + timedelta(hours=1)))
    assert store.document("Flow", "a") == doc("a", 2, at=T0 + timedelta(hours=1))
    assert store.document("Flow", "a", 1) == doc("a", 1)
    assert store.document("Flow", "a", 3) is None
    assert [d.version for d in store.versions("Flow", "a")] == [1, 2]
    assert [d.version for d in store.documents()] == [2]


@pytest.mark.parametrize("version", [1, 3, 0])
def test_add_version_conflict_refused_writes_nothing(store: Store, version: int) -> None:
    store.add_version(doc("a", 1))
    with pytest.raises(Refused):
        store.add_version(doc("a", version, at=T0 + timedelta(days=1)))
    assert store.versions("Flow", "a") == [doc("a", 1)]
    row = store.flow("a")
    assert row is not None and (row.version, row.updated_at) == (1, T0)


def test_add_version_new_document_must_start_at_one(store: Store) -> None:
    with pytest.raises(Refused):
        store.add_version(doc("a", 2))
    assert store.documents() == []
    assert store.flows() == []


def test_documents_ordered_by_kind_and_name(store: Store) -> None:
    for name, kind in [
        ("b", "Flow"),
        ("z", "Mailing"),
        ("a", "Sms"),
        ("a", "Flow"),
        ("y", "Mailing"),
    ]:
        store.add_version(doc(name, kind=kind))
    assert [(d.kind, d.name) for d in store.documents()] == [
        ("Flow", "a"),
        ("Flow", "b"),
        ("Mailing", "y"),
        ("Mailing", "z"),
        ("Sms", "a"),
    ]
    assert [d.name for d in store.documents("Mailing")] == ["y", "z"]


def test_delete_document_removes_versions_and_periods(store: Store) -> None:
    store.add_version(doc("a", 1))
    store.add_version(doc("a", 2))
    store.add_version(doc("a", kind="Mailing"))
    store.set_flow_state("a", "active", T0)
    assert store.delete_document("Flow", "a") is True
    assert store.document("Flow", "a") is None
    assert store.versions("Flow", "a") == []
    assert store.activations("a") == []
    assert store.flow("a") is None
    assert store.document("Mailing", "a") is not None  # another kind, another document
    assert store.delete_document("Flow", "a") is False


def test_delete_flow_takes_its_participants_history_and_counters(store: Store) -> None:
    store.add_version(doc("a"))
    store.set_flow_state("a", "active", T0)
    (cid,) = store.insert_contacts([{"email": "ann@example.com"}], T0)
    state = ParticipantState(
        flow="a",
        version=1,
        contact="ann@example.com",
        status="completed",
        step=None,
        due=None,
        entered_at=T0,
        trigger=Event("form_submitted", T0, {}),
        ended_at=T0,
    )
    ran = HistoryRow(state.id, "a", 1, cid, T0, "s1", "end", "end")
    store.commit_batch(
        Batch(
            entered=[(cid, state)],
            history=[ran],
            step_counts={("a", "2026-03-02", "s1", "end"): 1},
            daily_counts={("a", "2026-03-02", "entered"): 1},
        ),
        T0,
    )
    assert store.participant_counts("a") == {"completed": 1}
    store.set_flow_state("a", "deactivated", T0)
    assert store.delete_document("Flow", "a") is True
    assert store.participant_counts("a") == {}
    assert store.history(flow="a") == []
    assert store.step_counts("a") == {} and store.daily_counts("a") == {}


def test_delete_document_then_recreate_starts_at_one(store: Store) -> None:
    store.add_version(doc("a", 1))
    store.delete_document("Flow", "a")
    store.add_version(doc("a", 1))
    row = store.flow("a")
    assert row is not None and (row.version, row.state) == (1, "draft")


# -- flow state --------------------------------------------------------------------


def test_flows_give_heads_by_name(store: Store) -> None:
    store.add_version(doc("b", title="Old"))
    later = T0 + timedelta(days=2)
    store.add_version(doc("b", 2, at=later, title="B", folder="sales/eu", description="Bee"))
    store.add_version(doc("a"))
    store.add_version(doc("c", kind="Mailing"))
    rows = store.flows()
    assert [r.name for r in rows] == ["a", "b"]
    b = rows[1]
    assert (b.version, b.state, b.title, b.folder, b.description) == (
        2,
        "draft",
        "B",
        "sales/eu",
        "Bee",
    )
    assert (b.created_at, b.updated_at) == (T0, later)
    assert (b.activated_at, b.shown_at) == (None, None)
    assert (b.participants, b.succeeded, b.success_rate) == (0, 0, 0.0)
    assert store.flow("b") == b
    assert store.flow("c") is None
    assert store.flow("missing") is None


def test_set_flow_state_returns_the_state_before_and_changes_nothing_when_equal(
    store: Store,
) -> None:
    store.add_version(doc("a"))
    assert store.set_flow_state("a", "active", T0) == "draft"
    assert store.set_flow_state("a", "active", T0 + timedelta(days=1)) == "active"
    assert len(store.activations("a")) == 1
    row = store.flow("a")
    assert row is not None and row.updated_at == T0


def test_set_flow_state_records_activation_periods(store: Store) -> None:
    store.add_version(doc("a"))
    times = [T0 + timedelta(days=d) for d in range(6)]
    store.set_flow_state("a", "active", times[0])
    assert store.activations("a")[0].started_at == times[0]
    store.set_flow_state("a", "paused", times[1])
    store.set_flow_state("a", "active", times[2])  # resume keeps the period
    row = store.flow("a")
    assert row is not None and (row.state, row.activated_at) == ("active", times[0])
    assert [(p.started_at, p.ended_at) for p in store.activations("a")] == [(times[0], None)]
    store.set_flow_state("a", "deactivated", times[3])
    row = store.flow("a")
    assert row is not None and (row.state, row.activated_at) == ("deactivated", None)
    store.set_flow_state("a", "active", times[4])
    periods = store.activations("a")
    assert [(p.flow, p.started_at, p.ended_at) for p in periods] == [
        ("a", times[0], times[3]),
        ("a", times[4], None),
    ]
    row = store.flow("a")
    assert row is not None and row.activated_at == times[4]


def test_set_flow_state_deactivate_while_paused_closes_period(store: Store) -> None:
    store.add_version(doc("a"))
    store.set_flow_state("a", "active", T0)
    store.set_flow_state("a", "paused", T0 + timedelta(hours=1))
    store.set_flow_state("a", "deactivated", T0 + timedelta(hours=2))
    assert [(p.started_at, p.ended_at) for p in store.activations("a")] == [
        (T0, T0 + timedelta(hours=2))
    ]


def test_set_flow_state_records_pauses_until_resume_or_deactivate(store: Store) -> None:
    store.add_version(doc("a"))
    store.add_version(doc("b"))
    hours = [T0 + timedelta(hours=h) for h in range(6)]
    store.set_flow_state("b", "active", T0)
    store.set_flow_state("a", "active", hours[0])
    store.set_flow_state("a", "paused", hours[1])
    store.set_flow_state("a", "active", hours[2])  # resume
    store.set_flow_state("a", "paused", hours[3])
    store.set_flow_state("b", "paused", hours[4])
    assert [(p.flow, p.started_at, p.ended_at) for p in store.pauses()] == [
        ("a", hours[1], hours[2]),
        ("a", hours[3], None),
        ("b", hours[4], None),
    ]
    store.set_flow_state("a", "deactivated", hours[5])
    assert [(p.started_at, p.ended_at) for p in store.pauses() if p.flow == "a"] == [
        (hours[1], hours[2]),
        (hours[3], hours[5]),
    ]


def test_mark_shown_records_instant_only(store: Store) -> None:
    store.add_version(doc("a"))
    seen = datetime(2026, 3, 5, 12, 0, tzinfo=CET)
    store.mark_shown("a", seen)
    row = store.flow("a")
    assert row is not None and (row.shown_at, row.updated_at) == (seen, T0)


def test_participant_counts_empty(store: Store) -> None:
    store.add_version(doc("a"))
    assert store.participant_counts("a") == {}
    assert store.participant_counts("missing") == {}


# -- contacts ----------------------------------------------------------------------


def test_contact_keys_by_id_and_email_without_fields(store: Store) -> None:
    ann, bob, _ = store.insert_contacts(
        [
            {"id": "c-1", "email": "Ann@Example.com", "company": "Co"},
            {"email": "bob@example.com"},
            {"id": "c-3"},
        ],
        T0,
    )
    by_id, by_email = store.contact_keys(
        ids=["c-1", "nobody"], emails=["ANN@example.com", "bob@example.com", "x@example.com"]
    )
    assert by_id == {"c-1": ann}
    assert by_email == {"ann@example.com": ann, "bob@example.com": bob}
    assert store.contact_keys(ids=["c-1"]) == ({"c-1": ann}, {})
    assert store.contact_keys(ids=["nobody"], emails=["nobody@example.com"]) == ({}, {})
    assert store.contact_keys() == ({}, {})


def test_contact_keys_follow_updates(store: Store) -> None:
    (cid,) = store.insert_contacts([{"id": "c-1", "email": "old@example.com"}], T0)
    store.update_contacts([(cid, {"id": "c-2", "email": "New@Example.com"})], T0)
    assert store.contact_keys(ids=["c-1"], emails=["old@example.com"]) == ({}, {})
    assert store.contact_keys(ids=["c-2"], emails=["new@example.com"]) == (
        {"c-2": cid},
        {"new@example.com": cid},
    )


def test_insert_contacts_returns_keys_in_order(store: Store) -> None:
    rows = [{"id": "c-1", "email": "ann@example.com", "first_name": "Ann"}, {"phone": "+4712"}]
    cids = store.insert_contacts(rows, T0)
    assert len(set(cids)) == 2
    for cid, row in zip(cids, rows, strict=True):
        got = store.contact(cid)
        assert got is not None
        assert (got.cid, dict(got.data), got.created_at, got.updated_at) == (cid, row, T0, T0)
    assert store.contact(max(cids) + 1000) is None
    assert store.count_contacts() == 2


def test_contacts_in_creation_order_with_paging(store: Store) -> None:
    first = store.insert_contacts([{"email": f"c{i}@example.com"} for i in range(3)], T0)
    second = store.insert_contacts([{"email": "d@example.com"}], T0)
    assert [c.cid for c in store.contacts()] == first + second
    assert [c.cid for c in store.contacts(limit=2, offset=1)] == (first + second)[1:3]
    assert store.contacts(offset=10) == []


def test_find_contacts_by_id_and_email_ignoring_case(store: Store) -> None:
    ann, bob = store.insert_contacts(
        [{"id": "c-1", "email": "Ann@Example.com"}, {"email": "bob@example.com"}], T0
    )
    assert [c.cid for c in store.find_contacts(emails=["ann@EXAMPLE.com"])] == [ann]
    assert [c.cid for c in store.find_contacts(ids=["c-1"])] == [ann]
    found = store.find_contacts(ids=["c-1"], emails=["BOB@example.com", "ann@example.com"])
    assert sorted(c.cid for c in found) == sorted([ann, bob])
    assert store.find_contacts(ids=["nobody"], emails=["nobody@example.com"]) == []
    assert store.find_contacts() == []


@pytest.mark.parametrize(
    "clash",
    [{"email": "ANN@example.com"}, {"id": "c-1"}],
    ids=["email-other-case", "id"],
)
def test_insert_contacts_taken_refused_writes_nothing(store: Store, clash: dict[str, str]) -> None:
    store.insert_contacts([{"id": "c-1", "email": "ann@example.com"}], T0)
    with pytest.raises(Refused):
        store.insert_contacts([{"email": "new@example.com"}, clash], T0)
    assert store.count_contacts() == 1
    assert store.find_contacts(emails=["new@example.com"]) == []


def test_insert_contacts_clash_within_one_call_refused(store: Store) -> None:
    with pytest.raises(Refused):
        store.insert_contacts([{"email": "a@example.com"}, {"email": "A@example.com"}], T0)
    assert store.count_contacts() == 0


def test_insert_contacts_refused_inside_transaction_writes_nothing(store: Store) -> None:
    store.insert_contacts([{"email": "ann@example.com"}], T0)
    with store.transaction():
        with pytest.raises(Refused):
            store.insert_contacts([{"email": "new@example.com"}, {"email": "ann@example.com"}], T0)
        store.set_user("ann", "flow-admin", T0)
    assert store.users() == {"ann": "flow-admin"}
    assert store.find_contacts(emails=["new@example.com"]) == []


def test_update_contacts_replaces_fields(store: Store) -> None:
    (cid,) = store.insert_contacts([{"email": "ann@example.com", "tags": ["a"]}], T0)
    later = T0 + timedelta(hours=3)
    store.update_contacts([(cid, {"email": "Ann@New.example", "country": "NO"})], later)
    got = store.contact(cid)
    assert got is not None
    assert dict(got.data) == {"email": "Ann@New.example", "country": "NO"}
    assert (got.created_at, got.updated_at) == (T0, later)
    assert [c.cid for c in store.find_contacts(emails=["ann@new.example"])] == [cid]
    assert store.find_contacts(emails=["ann@example.com"]) == []


def test_update_contacts_clash_refused_writes_nothing(store: Store) -> None:
    ann, bob = store.insert_contacts(
        [{"email": "ann@example.com"}, {"email": "bob@example.com"}], T0
    )
    with pytest.raises(Refused):
        store.update_contacts(
            [(ann, {"email": "ann@example.com", "x": 1}), (bob, {"email": "ANN@example.com"})],
            T0 + timedelta(hours=1),
        )
    got = store.contact(ann)
    assert got is not None and (dict(got.data), got.updated_at) == (
        {"email": "ann@example.com"},
        T0,
    )


def test_update_contacts_may_pass_keys_between_contacts(store: Store) -> None:
    """A contact may take a key another one gives up in the same call, in any order."""
    ann, bob = store.insert_contacts(
        [{"id": "a", "email": "ann@example.com"}, {"id": "b", "email": "bob@example.com"}], T0
    )
    store.update_contacts(
        [(bob, {"id": "a", "email": "ann@example.com"}), (ann, {"id": "b", "email": "bob@x.org"})],
        T0,
    )
    assert [c.cid for c in store.find_contacts(ids=["a"], emails=["ann@example.com"])] == [bob]
    assert [c.cid for c in store.find_contacts(ids=["b"], emails=["bob@x.org"])] == [ann]
    assert store.find_contacts(emails=["bob@example.com"]) == []


def test_update_contacts_refused_inside_transaction_writes_nothing(store: Store) -> None:
    ann, bob = store.insert_contacts(
        [{"email": "ann@example.com"}, {"email": "bob@example.com"}], T0
    )
    with store.transaction(), pytest.raises(Refused):
        store.update_contacts(
            [(ann, {"email": "ann@example.com", "x": 1}), (bob, {"email": "ann@example.com"})],
            T0,
        )
    got = store.contact(ann)
    assert got is not None and dict(got.data) == {"email": "ann@example.com"}


# -- events ------------------------------------------------------------------------


def test_add_events_counts_new_ones_and_ignores_known_ids(store: Store) -> None:
    (cid,) = store.insert_contacts([{"email": "ann@example.com"}], T0)
    first = [
        NewEvent(cid, "tag_added", T0, {"tag": "a"}, id="e-1"),
        NewEvent(cid, "tag_added", T0, {"tag": "a"}, id="e-1"),  # again within the call
        NewEvent(cid, "page_visited", T0),
        NewEvent(cid, "page_visited", T0),  # no id: both count
    ]
    assert store.add_events(first, T0) == 3
    again = [NewEvent(cid, "tag_added", T0, id="e-1"), NewEvent(cid, "x", T0, id="e-2")]
    assert store.add_events(again, T0) == 1
    assert store.add_events([], T0) == 0
    assert len(store.events_for(cid)) == 4


def test_add_events_for_records_one_event_per_contact_in_order(store: Store) -> None:
    ann, bob = store.insert_contacts([{"email": "a@example.com"}, {"email": "b@example.com"}], T0)
    at = datetime(2026, 3, 2, 12, 0, tzinfo=CET)
    assert store.add_events_for([bob, ann, bob], "contact_created", at) == 3
    assert store.add_events_for([], "contact_created", at) == 0
    assert store.events_for(ann) == [{"id": None, "type": "contact_created", "at": at, "data": {}}]
    assert [e["type"] for e in store.events_for(bob)] == ["contact_created"] * 2
    store.add_events([NewEvent(ann, "later", at)], T0)
    assert store.events_for(ann)[1] == {"id": None, "type": "later", "at": at, "data": {}}


def test_add_events_for_inside_a_failed_transaction_writes_nothing(store: Store) -> None:
    (cid,) = store.insert_contacts([{"email": "a@example.com"}], T0)
    with pytest.raises(RuntimeError), store.transaction():
        store.add_events_for([cid], "contact_created", T0)
        raise RuntimeError("boom")
    assert store.events_for(cid) == []


def test_events_for_oldest_first(store: Store) -> None:
    ann, bob = store.insert_contacts([{"email": "a@example.com"}, {"email": "b@example.com"}], T0)
    late = datetime(2026, 3, 2, 12, 0, tzinfo=CET)
    store.add_events(
        [
            NewEvent(ann, "second", late, {"k": [1, "two"]}, id="e-2"),
            NewEvent(ann, "first", T0),
            NewEvent(bob, "other", T0),
            NewEvent(ann, "third", late),  # same instant: in the order received
        ],
        T0,
    )
    events = store.events_for(ann)
    assert [e["type"] for e in events] == ["first", "second", "third"]
    assert events[1] == {"id": "e-2", "type": "second", "at": late, "data": {"k": [1, "two"]}}
    assert [e["type"] for e in store.events_for(ann, limit=2)] == ["first", "second"]
    assert store.events_for(ann + bob + 100) == []


# -- users and audit ---------------------------------------------------------------


def test_users_set_and_change_role(store: Store) -> None:
    assert store.users() == {}
    assert store.set_user("bob", "content-editor", T0) is True
    assert store.set_user("ann", "flow-admin", T0) is True
    assert store.set_user("bob", "flow-admin", T0) is False
    assert store.users() == {"ann": "flow-admin", "bob": "flow-admin"}


def test_audit_log_newest_first(store: Store) -> None:
    assert store.audit_log() == []
    entries = [
        AuditEntry(T0 + timedelta(hours=2), "ann", "apply", "flow/b", "version 1"),
        AuditEntry(T0, "ann", "users add", "user/bob", "content-editor"),
        AuditEntry(T0 + timedelta(hours=2), "bob", "activate", "flow/b"),
    ]
    for entry in entries:
        store.log(entry)
    assert store.audit_log() == [entries[2], entries[0], entries[1]]
    assert store.audit_log(limit=1) == [entries[2]]


def test_audit_log_since_is_inclusive(store: Store) -> None:
    for hours in range(4):
        store.log(AuditEntry(T0 + timedelta(hours=hours), "ann", "apply", f"flow/f{hours}"))
    since = (T0 + timedelta(hours=2)).astimezone(CET)
    assert [e.object for e in store.audit_log(since=since)] == ["flow/f3", "flow/f2"]
    assert store.audit_log(since=T0 + timedelta(days=1)) == []


# -- the daemon's verbs ------------------------------------------------------------


def test_commit_batch_stores_handled_events_as_processed(store: Store) -> None:
    (cid,) = store.insert_contacts([{"email": "ann@example.com"}], T0)
    heard = NewEvent(cid, "tag_added", T0, {"tag": "vip"})
    unheard = NewEvent(cid, "email_sent", T0, {"mailing": "hello"}, handled=True)
    store.commit_batch(Batch(events=[heard, unheard]), T0)
    assert [e.type for e in store.pending_events(T0, 10)] == ["tag_added"]
    assert [e["type"] for e in store.events_for(cid)] == ["tag_added", "email_sent"]


def test_keep_messages_delivers_the_kept_channels_due_messages(store: Store) -> None:
    store.add_version(doc("held"))
    store.set_flow_state("held", "active", T0)
    store.set_flow_state("held", "paused", T0)
    cids = store.insert_contacts([{"email": f"p{i}@example.com"} for i in range(6)], T0)
    later = T0 + timedelta(hours=1)

    def message(
        i: int, channel: str = "email", to: str | None = "a@b.c", flow: str = "f", at: Any = None
    ) -> NewMessage:
        return NewMessage(f"k{i}", flow, "s", f"p{i}", cids[i], channel, "m", to, {}, send_at=at)

    queued = [
        message(0),
        message(1, to=None),  # no address: fails
        message(2, channel="sms"),  # another channel: left for its transport
        message(3, flow="held"),  # a paused flow's: waits for the resume
        message(4, at=later),  # not yet due
        message(5),
    ]
    store.commit_batch(Batch(messages=queued), T0)
    assert store.keep_messages(["email"], T0, 2) == (1, 1)  # the oldest two
    assert store.keep_messages(["email"], T0, 2) == (1, 0)
    assert store.keep_messages(["email"], T0, 2) == (0, 0)
    rows = {m.key: m for m in store.messages()}
    assert (rows["k0"].status, rows["k0"].sent_at, rows["k0"].attempts) == ("sent", T0, 1)
    assert (rows["k1"].status, rows["k1"].error) == ("failed", NO_ADDRESS)
    assert [rows[k].status for k in ("k2", "k3", "k4", "k5")] == ["queued"] * 3 + ["sent"]
    assert store.keep_messages(["email", "sms"], later, 10) == (2, 0)
    store.set_flow_state("held", "active", later)  # resumed
    assert store.keep_messages(["email"], later, 10) == (1, 0)
    assert {m.status for m in store.messages()} == {"sent", "failed"}


def test_finish_messages_records_every_attempt(store: Store) -> None:
    cids = store.insert_contacts([{"email": f"p{i}@example.com"} for i in range(3)], T0)
    messages = [
        NewMessage(f"k{cid}", "f", "mail", f"f/{cid}/0", cid, "email", "m", "a@b.c", {"text": "hi"})
        for cid in cids
    ]
    store.commit_batch(Batch(messages=messages), T0)
    claimed = store.claim_messages(T0, 10, T0 + timedelta(minutes=5))
    sent, retried, failed = sorted(claimed, key=lambda m: m.id)
    retry_at = T0 + timedelta(minutes=10)
    store.finish_messages(
        [
            Attempt(sent.id, "sent"),
            Attempt(retried.id, "queued", "421 try later", retry_at),
            Attempt(failed.id, "failed", "550 no such user"),
        ],
        T0,
    )
    rows = {m.id: m for m in store.messages()}
    assert (rows[sent.id].status, rows[sent.id].sent_at, rows[sent.id].attempts) == ("sent", T0, 1)
    assert (rows[retried.id].status, rows[retried.id].error) == ("queued", "421 try later")
    assert (rows[failed.id].status, rows[failed.id].error) == ("failed", "550 no such user")
    assert store.claim_messages(retry_at - timedelta(seconds=1), 10, retry_at) == []
    assert [m.id for m in store.claim_messages(retry_at, 10, retry_at)] == [retried.id]


def test_bulk_writes_as_usual_also_inside_a_transaction(store: Store) -> None:
    with store.bulk():
        store.insert_contacts([{"email": "a@example.com"}], T0)
    with store.transaction(), store.bulk():  # as an HTTP request's ingest runs
        store.insert_contacts([{"email": "b@example.com"}], T0)
    assert store.count_contacts() == 2
