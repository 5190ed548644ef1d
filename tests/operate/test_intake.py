"""Contacts and events into the store (flowctl.operate.intake), read back through the Store API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flowctl.errors import InputError, NotFound, Refused, UsageError
from flowctl.load.records import Record
from flowctl.operate import intake
from flowctl.store import ContactRow, Store, open_store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(str(tmp_path / "flowctl.db")) as st:
        yield st


def records(*rows: dict[str, Any] | str) -> list[Record]:
    """Records numbered from line 1; a string is a line that could not be read."""
    return [
        Record(n, error=row) if isinstance(row, str) else Record(n, row)
        for n, row in enumerate(rows, start=1)
    ]


def one(store: Store, ref: str) -> ContactRow:
    return intake.find_contact(store, ref)


def types(store: Store, ref: str) -> list[str]:
    return [e["type"] for e in store.events_for(one(store, ref).cid)]


# -- import -----------------------------------------------------------------


def test_import_csv_creates_contacts_with_lists_and_flags(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "id,email,first_name,tags,unsubscribed,timezone\n"
        "1,ann@example.com,Ann,a;b,yes,Europe/Oslo\n"
        "2,bo@example.com,Bo,,no,\n",
        encoding="utf-8",
    )
    result = intake.import_contacts(store, intake.contact_records(path), NOW)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (2, 0, 0, [])
    ann = one(store, "id:1").data
    assert ann == {
        "id": "1",
        "email": "ann@example.com",
        "first_name": "Ann",
        "tags": ["a", "b"],
        "unsubscribed": True,
        "timezone": "Europe/Oslo",
    }
    assert one(store, "bo@example.com").data["unsubscribed"] is False
    assert store.count_contacts() == 2


def test_import_jsonl_turns_numeric_ids_to_text(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_text('{"id": 7, "email": "ann@example.com", "score": 3}\n', encoding="utf-8")
    result = intake.import_contacts(store, intake.contact_records(path), NOW)
    assert result.created == 1
    assert one(store, "id:7").data == {"id": "7", "email": "ann@example.com", "score": 3}


def test_import_upserts_by_id_and_keeps_other_fields(store: Store) -> None:
    intake.import_contacts(store, records({"id": "1", "email": "a@x.com", "company": "Co"}), NOW)
    result = intake.import_contacts(store, records({"id": "1", "first_name": "Ann"}), NOW)
    assert (result.created, result.updated) == (0, 1)
    assert one(store, "id:1").data == {
        "id": "1",
        "email": "a@x.com",
        "company": "Co",
        "first_name": "Ann",
    }
    assert store.count_contacts() == 1


def test_import_upserts_by_email_ignoring_case(store: Store) -> None:
    intake.import_contacts(store, records({"email": "Ann@Example.com", "company": "Co"}), NOW)
    result = intake.import_contacts(
        store, records({"email": "ann@example.COM", "company": "B"}), NOW
    )
    assert (result.created, result.updated) == (0, 1)
    data = one(store, "ann@example.com").data
    assert data["company"] == "B"
    assert data["email"] == "Ann@Example.com"  # matching by it is no change to it


def test_import_same_values_is_unchanged_and_records_no_event(store: Store) -> None:
    row = {"id": "1", "email": "a@x.com", "tags": ["t"]}
    intake.import_contacts(store, records(row), NOW)
    result = intake.import_contacts(store, records(dict(row)), NOW + timedelta(hours=1))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert types(store, "id:1") == ["contact_created"]
    assert one(store, "id:1").updated_at == NOW


def test_import_new_id_with_email_of_contact_without_id_gives_it_the_id(store: Store) -> None:
    intake.import_contacts(store, records({"email": "a@x.com", "company": "Co"}), NOW)
    result = intake.import_contacts(store, records({"id": "9", "email": "a@x.com"}), NOW)
    assert (result.created, result.updated) == (0, 1)
    assert one(store, "id:9").data == {"email": "a@x.com", "company": "Co", "id": "9"}
    assert store.count_contacts() == 1


def test_import_rejects_id_and_email_of_two_different_contacts(store: Store) -> None:
    intake.import_contacts(
        store, records({"id": "1", "email": "a@x.com"}, {"id": "2", "email": "b@x.com"}), NOW
    )
    result = intake.import_contacts(
        store,
        records(
            {"id": "1", "email": "b@x.com"},
            {"id": "3", "email": "a@x.com"},
            {"id": "2", "company": "kept"},
        ),
        NOW,
    )
    assert [r.line for r in result.rejected] == [1, 2]
    assert "two different contacts" in result.rejected[0].reason
    assert "belongs to the contact with id '1'" in result.rejected[1].reason
    assert result.updated == 1
    assert one(store, "id:1").data["email"] == "a@x.com"
    assert one(store, "id:2").data["company"] == "kept"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"first_name": "Ann"}, "needs an 'id' or an 'email'"),
        ({"email": "ann.example.com"}, "not an e-mail address"),
        ({"email": "ann@localhost"}, "not an e-mail address"),
        ({"email": "a@x.com", "unsubscribed": "yes"}, "'unsubscribed' must be true or false"),
        ({"email": "a@x.com", "tags": "vip"}, "'tags' must be a list of strings"),
        ({"email": "a@x.com", "campaigns": [1]}, "'campaigns' must be a list of strings"),
        ({"email": "a@x.com", "timezone": "Mars/Base"}, "not an IANA time zone"),
        ({"id": True}, "'id' must be a non-empty string or a number"),
        ("not valid JSON", "not valid JSON"),
    ],
)
def test_import_rejects_bad_rows_by_line_and_keeps_good_ones(
    store: Store, row: dict[str, Any] | str, reason: str
) -> None:
    result = intake.import_contacts(store, records({"email": "good@x.com"}, row, {"id": "g2"}), NOW)
    assert result.created == 2
    assert [r.line for r in result.rejected] == [2]
    assert reason in result.rejected[0].reason
    assert store.count_contacts() == 2


@pytest.mark.parametrize("batch_size", [1, 2, 5000])
def test_import_repeated_row_updates_the_earlier_one(store: Store, batch_size: int) -> None:
    result = intake.import_contacts(
        store,
        records(
            {"id": "1", "email": "a@x.com", "company": "Co"},
            {"email": "b@x.com"},
            {"email": "A@x.com", "company": "New"},
        ),
        NOW,
        batch_size=batch_size,
    )
    assert (result.created, result.updated) == (2, 1)
    assert one(store, "id:1").data == {"id": "1", "email": "a@x.com", "company": "New"}
    events = store.events_for(one(store, "id:1").cid)
    assert [(e["type"], e["data"], e["at"]) for e in events] == [
        ("contact_created", {}, NOW),
        ("contact_updated", {"set": {"company": "New"}}, NOW),
    ]


def test_import_changing_memberships_records_the_events_an_action_would(store: Store) -> None:
    intake.import_contacts(store, records({"email": "a@x.com", "tags": ["old", "keep"]}), NOW)
    later = NOW + timedelta(hours=1)
    changed = {"email": "a@x.com", "tags": ["keep", "vip"], "campaigns": ["c1"]}
    intake.import_contacts(store, records(changed), later)
    events = [(e["type"], e["data"]) for e in store.events_for(one(store, "a@x.com").cid)]
    assert events[2:] == [
        ("tag_added", {"tag": "vip"}),
        ("tag_removed", {"tag": "old"}),
        ("campaign_subscribed", {"campaign": "c1"}),
    ]
    assert events[1] == ("contact_updated", {"set": {"tags": ["keep", "vip"], "campaigns": ["c1"]}})


def test_ingest_and_import_refuse_text_no_store_keeps_by_line(store: Store) -> None:
    events = records(
        {"type": "page\x00visited", "contact": {"email": "a@x.com"}},
        {"type": "page_visited", "contact": {"email": "a@x.com"}, "data": {"x": ["\udc80"]}},
        {"type": "x", "contact": {"email": "a@x.com"}, "occurred_at": "0001-01-01T00:00:00+14:00"},
        {"type": "page_visited", "contact": {"email": "a@x.com"}, "data": {"x": "Åse 🙂"}},
    )
    result = intake.ingest_events(store, events, NOW)
    assert [(r.line, r.reason.split(" holds")[0]) for r in result.rejected[:2]] == [
        (1, "'type'"),
        (2, "'data'"),
    ]
    assert result.rejected[2].reason.endswith("is out of range")
    assert result.added == 1
    contacts = records({"email": "b@x.com", "first_name": "\ud83d"}, {"email": "c\x00@x.com"})
    imported = intake.import_contacts(store, contacts, NOW)
    assert [r.line for r in imported.rejected] == [1, 2] and imported.created == 0


def test_membership_events_come_once_per_name(store: Store) -> None:
    intake.import_contacts(store, records({"email": "a@x.com", "tags": ["a"]}), NOW)
    intake.import_contacts(store, records({"email": "a@x.com", "tags": ["a", "b", "b"]}), NOW)
    event = {"type": "tag_added", "contact": {"email": "a@x.com", "tags": ["a", "b", "c"]}}
    intake.ingest_events(store, records({**event, "data": {"tag": "c"}}), NOW)
    events = store.events_for(one(store, "a@x.com").cid)
    assert [e["data"]["tag"] for e in events if e["type"] == "tag_added"] == ["b", "c"]


def test_ingest_contact_fields_adding_a_tag_record_tag_added(store: Store) -> None:
    intake.import_contacts(store, records({"email": "a@x.com"}), NOW)
    event = {"type": "page_visited", "contact": {"email": "a@x.com", "tags": ["vip"]}}
    intake.ingest_events(store, records(event), NOW + timedelta(hours=1))
    assert types(store, "a@x.com")[1:] == ["contact_updated", "tag_added", "page_visited"]


def test_import_email_change_frees_the_old_address_within_a_batch(store: Store) -> None:
    result = intake.import_contacts(
        store,
        records(
            {"id": "1", "email": "old@x.com"},
            {"id": "1", "email": "new@x.com"},
            {"email": "old@x.com", "first_name": "Someone else"},
        ),
        NOW,
    )
    assert (result.created, result.updated, result.rejected) == (2, 1, [])
    assert one(store, "old@x.com").data == {"email": "old@x.com", "first_name": "Someone else"}
    assert one(store, "id:1").data["email"] == "new@x.com"


def test_import_finds_a_stored_contact_by_an_email_the_batch_then_changes(store: Store) -> None:
    """The batch's new contacts take neither key it matched the stored contact by."""
    intake.import_contacts(store, records({"email": "a@x.com", "company": "Co"}), NOW)
    result = intake.import_contacts(
        store, records({"id": "1", "email": "a@x.com"}, {"id": "1", "email": "b@x.com"}), NOW
    )
    assert (result.created, result.updated, result.rejected) == (0, 2, [])
    assert store.count_contacts() == 1
    assert one(store, "id:1").data == {"email": "b@x.com", "company": "Co", "id": "1"}


def test_import_rejects_a_row_by_the_stored_contacts_too(store: Store) -> None:
    intake.import_contacts(store, records({"id": "2", "email": "s@x.com"}), NOW)
    result = intake.import_contacts(
        store, records({"id": "1", "email": "n@x.com"}, {"id": "2", "email": "n@x.com"}), NOW
    )
    assert result.created == 1
    assert [r.line for r in result.rejected] == [2]
    assert "two different contacts" in result.rejected[0].reason
    assert one(store, "id:2").data == {"id": "2", "email": "s@x.com"}


@pytest.mark.parametrize("batch_size", [2, 5000])
def test_import_new_and_known_contacts_mixed(store: Store, batch_size: int) -> None:
    intake.import_contacts(
        store, records({"id": "a", "email": "ann@x.com"}, {"id": "b", "email": "bob@x.com"}), NOW
    )
    result = intake.import_contacts(
        store,
        records(
            {"id": "n1", "email": "n1@x.com"},
            {"id": "a", "company": "X"},
            {"id": "b", "email": "Bob@New.example"},
            {"id": "n2", "email": "n2@x.com"},
        ),
        NOW,
        batch_size=batch_size,
    )
    assert (result.created, result.updated, result.unchanged) == (2, 2, 0)
    assert one(store, "id:a").data == {"id": "a", "email": "ann@x.com", "company": "X"}
    assert one(store, "bob@new.example").data == {"id": "b", "email": "Bob@New.example"}
    with pytest.raises(NotFound):
        one(store, "bob@x.com")
    assert types(store, "id:n2") == ["contact_created"]
    assert types(store, "id:b") == ["contact_created", "contact_updated"]


def test_import_matches_non_ascii_emails_ignoring_case(store: Store) -> None:
    intake.import_contacts(store, records({"email": "ÅSE@Example.no"}), NOW)
    result = intake.import_contacts(store, records({"email": "åse@example.no", "n": 1}), NOW)
    assert (result.created, result.updated) == (0, 1)
    assert one(store, "Åse@example.no").data == {"email": "ÅSE@Example.no", "n": 1}


def test_import_csv_without_id_or_email_column_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("first_name,company\nAnn,Co\n", encoding="utf-8")
    with pytest.raises(InputError, match="neither an 'email' nor an 'id' column"):
        intake.import_contacts(store, intake.contact_records(path), NOW)
    assert store.count_contacts() == 0


def test_import_reports_progress_per_batch(store: Store) -> None:
    seen: list[int] = []
    rows = [{"email": f"p{i}@x.com"} for i in range(5)]
    intake.import_contacts(store, records(*rows), NOW, batch_size=2, on_progress=seen.append)
    assert seen == [2, 4, 5]


def test_import_is_audited(store: Store) -> None:
    intake.import_contacts(store, records({"email": "a@x.com"}, {"email": "bad"}), NOW)
    [entry] = store.audit_log()
    assert (entry.command, entry.object, entry.at) == ("contacts import", "contacts", NOW)
    assert entry.detail == "created 1, updated 0, rejected 1"


def test_import_needs_a_known_user_once_users_exist(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.set_user("admin", "flow-admin", NOW)
    monkeypatch.setenv("FLOWCTL_USER", "mallory")
    with pytest.raises(Refused):
        intake.import_contacts(store, records({"email": "a@x.com"}), NOW)
    assert store.count_contacts() == 0


# -- ingest -----------------------------------------------------------------


def event(kind: str = "page_visited", who: str = "ann@example.com", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "contact": {"email": who}, **extra}


def test_ingest_creates_unknown_contacts_and_stores_events(store: Store) -> None:
    at = "2026-03-01T08:00:00+01:00"
    result = intake.ingest_events(
        store,
        records(event(occurred_at=at, data={"url": "https://x.com"}, id="e1")),
        NOW,
    )
    assert (result.added, result.duplicates, result.rejected) == (1, 0, [])
    events = store.events_for(one(store, "ann@example.com").cid)
    assert [(e["type"], e["at"], e["id"]) for e in events] == [
        ("page_visited", datetime(2026, 3, 1, 7, 0, tzinfo=UTC), "e1"),
        ("contact_created", NOW, None),
    ]
    assert events[0]["data"] == {"url": "https://x.com"}


def test_ingest_skips_bad_lines_and_keeps_the_rest(store: Store) -> None:
    result = intake.ingest_events(
        store,
        records(
            event(),
            "not valid JSON: Expecting value (column 1)",
            {"type": "x", "contact": {"email": "a@x.com"}, "when": "now"},
            {"type": "", "contact": {"email": "a@x.com"}},
            {"type": "x", "contact": "a@x.com"},
            event(occurred_at="2026-03-01T08:00:00"),
            event(data=[1]),
            event(id=1.5),
            event("tag_added"),
            event(who="b@example.com"),
        ),
        NOW,
    )
    assert result.added == 2
    reasons = {r.line: r.reason for r in result.rejected}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert "unknown key 'when'" in reasons[3]
    assert "'type' must be a non-empty string" in reasons[4]
    assert "'contact' must be an object" in reasons[5]
    assert "not an instant with an offset" in reasons[6]
    assert "'data' must be an object" in reasons[7]
    assert "needs the tag's name in data.tag" in reasons[9]
    assert store.count_contacts() == 2


def test_ingest_ignores_duplicate_ids_within_a_file_and_across_runs(store: Store) -> None:
    first = intake.ingest_events(
        store,
        records(
            event("tag_added", data={"tag": "vip"}, id="e1"),
            event("tag_removed", data={"tag": "vip"}, id="e2"),
            event("tag_added", data={"tag": "vip"}, id="e1"),
        ),
        NOW,
    )
    assert (first.added, first.duplicates) == (2, 1)
    assert one(store, "ann@example.com").data.get("tags") == []
    again = intake.ingest_events(
        store, records(event("tag_added", data={"tag": "vip"}, id="e1")), NOW, batch_size=1
    )
    assert (again.added, again.duplicates) == (0, 1)
    assert one(store, "ann@example.com").data.get("tags") == []  # not applied again
    assert types(store, "ann@example.com").count("tag_added") == 1


def test_ingest_counts_repeats_of_events_that_only_name_their_contact(store: Store) -> None:
    intake.ingest_events(store, records(event(id="p1"), event("tag_added", data={"tag": "a"})), NOW)
    again = intake.ingest_events(
        store, records(event(id="p1"), event(id="p2"), event(id="p1"), event(id="p3")), NOW
    )
    assert (again.added, again.duplicates) == (2, 2)
    assert types(store, "ann@example.com").count("page_visited") == 3


def test_ingest_repeat_naming_a_key_the_batch_gave_up_creates_no_contact(store: Store) -> None:
    intake.ingest_events(store, records(event(id="old")), NOW)  # ann@example.com
    change = {"set": {"email": "ann@example.org"}}
    result = intake.ingest_events(
        store,
        records(
            event("contact_updated", data=change),  # ann@example.com is no one's now
            event(id="old"),  # a repeat: no new ann@example.com for it
        ),
        NOW,
    )
    assert (result.added, result.duplicates) == (1, 1)
    assert store.count_contacts() == 1
    assert one(store, "ann@example.org").data["email"] == "ann@example.org"


def test_ingest_a_contact_may_take_the_email_another_gives_up(store: Store) -> None:
    intake.import_contacts(
        store, records({"id": "a", "email": "a@x.com"}, {"id": "b", "email": "b@x.com"}), NOW
    )
    result = intake.ingest_events(
        store,
        records(
            event("tag_added", "b@x.com", data={"tag": "t"}),  # b is changed first
            {
                "type": "contact_updated",
                "contact": {"id": "a"},
                "data": {"set": {"email": "z@x.com"}},
            },
            {
                "type": "contact_updated",
                "contact": {"id": "b"},
                "data": {"set": {"email": "a@x.com"}},
            },
        ),
        NOW,
    )
    assert (result.added, result.rejected) == (3, [])
    assert one(store, "a@x.com").data["id"] == "b"
    assert one(store, "z@x.com").data["id"] == "a"


def test_ingest_numeric_id_is_the_same_as_its_text(store: Store) -> None:
    intake.ingest_events(store, records(event(id=42)), NOW)
    result = intake.ingest_events(store, records(event(id="42")), NOW)
    assert result.duplicates == 1
    assert store.known_event_ids(["42"]) == {"42"}


def test_ingest_tag_added_changes_tags(store: Store) -> None:
    intake.import_contacts(store, records({"email": "ann@example.com", "tags": ["a"]}), NOW)
    intake.ingest_events(store, records(event("tag_added", data={"tag": "vip"})), NOW)
    assert one(store, "ann@example.com").data["tags"] == ["a", "vip"]


def test_ingest_contact_updated_sets_and_unsets_fields(store: Store) -> None:
    intake.import_contacts(store, records({"id": "1", "email": "a@x.com", "phone": "1"}), NOW)
    change = {"set": {"contact.company": "Co", "country": "NO"}, "unset": ["phone"]}
    result = intake.ingest_events(
        store, records({"type": "contact_updated", "contact": {"id": "1"}, "data": change}), NOW
    )
    assert result.added == 1
    assert one(store, "id:1").data == {
        "id": "1",
        "email": "a@x.com",
        "company": "Co",
        "country": "NO",
    }


def test_ingest_contact_updated_to_a_taken_email_is_rejected(store: Store) -> None:
    intake.import_contacts(store, records({"id": "1", "email": "a@x.com"}), NOW)
    intake.import_contacts(store, records({"id": "2", "email": "b@x.com"}), NOW)
    result = intake.ingest_events(
        store,
        records(
            {
                "type": "contact_updated",
                "contact": {"id": "1"},
                "data": {"set": {"email": "B@x.com"}},
            },
            event(who="b@x.com"),
        ),
        NOW,
    )
    assert result.added == 1
    assert [r.line for r in result.rejected] == [1]
    assert "belongs to another contact" in result.rejected[0].reason
    assert one(store, "id:1").data["email"] == "a@x.com"


def test_ingest_contact_fields_upsert_like_import(store: Store) -> None:
    intake.import_contacts(store, records({"email": "ann@example.com", "company": "Old"}), NOW)
    contact = {"email": "ann@example.com", "company": "New", "tags": ["x"]}
    intake.ingest_events(store, records({"type": "form_submitted", "contact": contact}), NOW)
    assert one(store, "ann@example.com").data == contact
    events = store.events_for(one(store, "ann@example.com").cid)
    assert events[-3]["data"] == {"set": {"company": "New", "tags": ["x"]}}
    assert (events[-2]["type"], events[-2]["data"]) == ("tag_added", {"tag": "x"})
    assert [e["type"] for e in events] == [
        "contact_created",
        "contact_updated",
        "tag_added",
        "form_submitted",
    ]


def test_ingest_rejects_a_bad_contact_field(store: Store) -> None:
    bad = {"type": "x", "contact": {"email": "a@x.com", "unsubscribed": "no"}}
    result = intake.ingest_events(store, records(bad), NOW)
    assert "'unsubscribed' must be true or false" in result.rejected[0].reason
    assert store.count_contacts() == 0


def test_ingest_events_naming_a_contact_by_key_alone_change_nothing(store: Store) -> None:
    intake.import_contacts(store, records({"id": "1", "email": "ann@example.com"}), NOW)
    result = intake.ingest_events(
        store,
        records(
            event(who="ANN@example.com", id="v1"),
            {"type": "tag_added", "contact": {"id": "1"}, "data": {"tag": "vip"}},
            event(who="ann@example.com"),
            {"type": "page_visited", "contact": {"id": "1"}},
        ),
        NOW,
    )
    assert (result.added, result.rejected) == (4, [])
    assert one(store, "id:1").data == {"id": "1", "email": "ann@example.com", "tags": ["vip"]}
    assert types(store, "id:1") == [
        "contact_created",
        "page_visited",
        "tag_added",
        "page_visited",
        "page_visited",
    ]


def test_ingest_contact_updated_then_named_by_its_new_email(store: Store) -> None:
    intake.import_contacts(store, records({"id": "1", "email": "old@x.com"}), NOW)
    change = {"set": {"email": "new@x.com"}}
    result = intake.ingest_events(
        store,
        records(
            event(who="old@x.com"),
            {"type": "contact_updated", "contact": {"id": "1"}, "data": change},
            event(who="new@x.com"),
            event(who="old@x.com"),
        ),
        NOW,
    )
    assert (result.added, result.rejected) == (4, [])
    assert store.count_contacts() == 2  # the old address names someone new now
    assert types(store, "id:1") == [
        "contact_created",
        "page_visited",
        "contact_updated",
        "page_visited",
    ]
    assert types(store, "old@x.com") == ["contact_created", "page_visited"]


def test_contacts_read_by_key_get_their_fields_when_needed(store: Store) -> None:
    from flowctl.operate.intake_checks import Rejected
    from flowctl.operate.intake_contacts import Contacts

    intake.import_contacts(store, records({"id": "1", "email": "a@x.com", "n": 2}), NOW)
    contacts = Contacts(store)
    contacts.load_keys([], ["A@x.com"])
    cid = contacts.by_email["a@x.com"]  # known by its key alone
    assert isinstance(cid, int)
    entry = contacts.match({"email": "a@x.com"})
    assert entry is not None and (entry.cid, entry.data) == (cid, None)
    assert contacts.by_email["a@x.com"] is entry
    with pytest.raises(Rejected, match="belongs to the contact with id '1'"):
        contacts.match({"id": "9", "email": "a@x.com"})
    assert entry.data == {"id": "1", "email": "a@x.com", "n": 2}


def test_ingest_is_audited(store: Store) -> None:
    intake.ingest_events(store, records(event(id="1"), event(id="1"), "bad"), NOW)
    [entry] = store.audit_log()
    assert (entry.command, entry.object) == ("event ingest", "events")
    assert entry.detail == "added 1, duplicates 1, rejected 1"


# -- one event, references --------------------------------------------------


def test_send_event_creates_the_contact_and_is_idempotent_by_id(store: Store) -> None:
    sent = intake.send_event(store, "demo_booked", "id:c9", {"n": 1}, None, "x1", NOW)
    assert sent.to_dict() == {"added": True, "id": "x1", "type": "demo_booked", "contact": "id:c9"}
    again = intake.send_event(store, "demo_booked", "id:c9", {"n": 1}, None, "x1", NOW)
    assert again.added is False
    assert one(store, "id:c9").data == {"id": "c9"}
    assert types(store, "id:c9") == ["contact_created", "demo_booked"]
    assert [e.command for e in store.audit_log()] == ["event send", "event send"]


def test_send_event_at_a_given_instant(store: Store) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    intake.send_event(store, "x", "ann@example.com", {}, at, None, NOW)
    [sent] = [e for e in store.events_for(one(store, "ann@example.com").cid) if e["type"] == "x"]
    assert sent["at"] == at


def test_send_event_refuses_an_invalid_event(store: Store) -> None:
    with pytest.raises(InputError, match=r"data\.tag"):
        intake.send_event(store, "tag_added", "ann@example.com", {}, None, None, NOW)
    assert store.count_contacts() == 0


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("id:42", ("id", "42")), (" ann@example.com ", ("email", "ann@example.com"))],
)
def test_parse_ref(text: str, parsed: tuple[str, str]) -> None:
    assert intake.parse_ref(text) == parsed


@pytest.mark.parametrize("text", ["id:", "ann", "42"])
def test_parse_ref_refuses_anything_else(text: str) -> None:
    with pytest.raises(UsageError):
        intake.parse_ref(text)


def test_find_contact_unknown_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match=r"no contact ann@example\.com"):
        intake.find_contact(store, "ann@example.com")


def test_show_contact_lists_are_always_there(store: Store) -> None:
    intake.import_contacts(store, records({"email": "a@x.com", "tags": ["t"]}), NOW)
    view = intake.show_contact(store, "A@x.com")
    assert view["tags"] == ["t"]
    assert (view["campaigns"], view["selections"], view["projects"]) == ([], [], [])
    assert view["created_at"] == "2026-03-02T09:00:00+00:00"
