"""contacts import/list/show and event send/ingest, run as commands against a store file."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flowctl.operate.intake import find_contact
from flowctl.store import open_store
from tests.conftest import Run

Cli = Callable[..., Run]

NOW = "2026-03-10T12:00:00+01:00"
NOW_UTC = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
PEOPLE = (
    "id,email,first_name,last_name,company,tags\n"
    "1,ann@example.com,Ann,Berg,Acme,lead;vip\n"
    "2,bo@example.com,Bo,Dahl,,\n"
)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWCTL_NOW", NOW)
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "flowctl.db")


def contact(db: str, ref: str) -> dict[str, Any]:
    with open_store(db) as st:
        return dict(find_contact(st, ref).data)


def events(db: str, ref: str) -> list[dict[str, Any]]:
    with open_store(db) as st:
        return [dict(e) for e in st.events_for(find_contact(st, ref).cid)]


def jsonl(*rows: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


# -- contacts import --------------------------------------------------------


def test_import_csv_prints_a_summary_and_exits_0(cli: Cli, write: Any, db: str) -> None:
    run = cli("contacts", "import", write("people.csv", PEOPLE), "--store", db)
    assert run.code == 0, run.err
    assert run.out.strip() == "created 2, updated 0, unchanged 0, rejected 0"
    assert contact(db, "id:1")["tags"] == ["lead", "vip"]


def test_import_json_output_and_upsert(cli: Cli, write: Any, db: str) -> None:
    cli("contacts", "import", write("people.csv", PEOPLE), "--store", db)
    changes = write("changes.jsonl", jsonl({"email": "ANN@example.com", "company": "Beta"}))
    run = cli("contacts", "import", changes, "--store", db, "-o", "json")
    assert run.code == 0
    assert run.json() == {"created": 0, "updated": 1, "unchanged": 0, "rejected": []}
    ann = contact(db, "id:1")
    assert (ann["company"], ann["first_name"]) == ("Beta", "Ann")


def test_import_reports_rejected_rows_by_line_and_exits_1(cli: Cli, write: Any, db: str) -> None:
    path = write("people.csv", PEOPLE + "3,not-an-email,Cy,,,\n,,Nobody,,,\n")
    run = cli("contacts", "import", path, "--store", db)
    assert run.code == 1
    assert run.out.strip() == "created 2, updated 0, unchanged 0, rejected 2"
    lines = run.err.splitlines()
    assert lines[0].startswith(f"{path}:4: rejected: ")
    assert "not an e-mail address" in lines[0]
    assert lines[1] == f"{path}:5: rejected: a contact needs an 'id' or an 'email'"
    assert "Traceback" not in run.err


def test_import_rejections_in_json(cli: Cli, write: Any, db: str) -> None:
    path = write("people.jsonl", jsonl({"email": "a@x.com"}, "{oops", {"id": 2, "tags": "x"}))
    run = cli("contacts", "import", path, "--store", db, "-o", "json")
    assert run.code == 1
    data = run.json()
    assert data["created"] == 1
    assert [r["line"] for r in data["rejected"]] == [2, 3]
    assert "'tags' must be a list of strings" in data["rejected"][1]["reason"]


def test_import_csv_without_id_or_email_column_writes_nothing(
    cli: Cli, write: Any, db: str
) -> None:
    run = cli("contacts", "import", write("p.csv", "name,company\nAnn,Acme\n"), "--store", db)
    assert run.code == 1
    assert "neither an 'email' nor an 'id' column" in run.err
    assert "Traceback" not in run.err
    assert cli("contacts", "list", "--store", db, "-o", "json").json() == []


def test_import_from_stdin_reads_jsonl(cli: Cli, db: str) -> None:
    run = cli("contacts", "import", "-", "--store", db, stdin=jsonl({"id": "s1"}, "nope"))
    assert run.code == 1
    assert "<stdin>:2: rejected: not valid JSON" in run.err
    assert contact(db, "id:s1") == {"id": "s1"}


def test_import_from_stdin_reads_csv_with_a_header(cli: Cli, db: str) -> None:
    csv_text = "\ufeffid,email,tags\ns2,s2@example.com,a;b\ns3,not-an-address,\n"
    run = cli("contacts", "import", "-", "--store", db, stdin=csv_text)
    assert run.code == 1
    assert "<stdin>:3: rejected: 'not-an-address' is not an e-mail address" in run.err
    assert contact(db, "id:s2") == {"id": "s2", "email": "s2@example.com", "tags": ["a", "b"]}


@pytest.mark.parametrize("command", [("contacts", "import"), ("event", "ingest")])
def test_missing_file_is_a_usage_error(
    cli: Cli, db: str, tmp_path: Path, command: tuple[str, str]
) -> None:
    run = cli(*command, str(tmp_path / "nope.csv"), "--store", db)
    assert run.code == 2
    assert run.err.startswith(f"error: {tmp_path / 'nope.csv'}: no such file")
    assert not Path(db).exists()


@pytest.mark.parametrize("command", [("contacts", "import"), ("event", "ingest")])
def test_a_folder_or_a_file_that_is_not_utf8_is_named(
    cli: Cli, db: str, tmp_path: Path, command: tuple[str, str]
) -> None:
    folder = cli(*command, str(tmp_path), "--store", db)
    assert (folder.code, folder.err) == (
        2,
        f"error: {tmp_path} is a folder, not a file (give a CSV or JSONL file, or - for stdin)\n",
    )
    latin1 = tmp_path / "people.jsonl"
    latin1.write_bytes('{"email": "bjørn@example.com"}\n'.encode("latin-1"))
    run = cli(*command, str(latin1), "--store", db)
    assert run.code == 1 and f"error: {latin1} is not UTF-8 text" in run.err


def test_import_uses_flowctl_now(cli: Cli, write: Any, db: str) -> None:
    cli("contacts", "import", write("people.csv", PEOPLE), "--store", db)
    [created] = events(db, "id:1")
    assert (created["type"], created["at"]) == ("contact_created", NOW_UTC)
    shown = cli("contacts", "show", "id:1", "--store", db, "-o", "json").json()
    assert shown["created_at"] == "2026-03-10T11:00:00+00:00"


# -- contacts list / show ---------------------------------------------------


def test_list_shows_columns_and_pages(cli: Cli, write: Any, db: str) -> None:
    cli("contacts", "import", write("people.csv", PEOPLE), "--store", db)
    run = cli("contacts", "list", "--store", db)
    assert run.code == 0
    header = run.out.splitlines()[0].split()
    assert header == ["ID", "EMAIL", "FIRST", "NAME", "LAST", "NAME", "COMPANY", "TAGS", "CREATED"]
    assert "lead, vip" in run.out
    page = cli("contacts", "list", "--store", db, "--limit", "1", "--offset", "1", "-o", "json")
    assert [c["email"] for c in page.json()] == ["bo@example.com"]


def test_list_on_a_missing_store_creates_no_file(cli: Cli, db: str) -> None:
    run = cli("contacts", "list", "--store", db)
    assert (run.code, run.out.strip()) == (0, "No contacts in the store.")
    assert not Path(db).exists()


def test_show_json_always_has_the_lists(cli: Cli, write: Any, db: str) -> None:
    cli("contacts", "import", write("people.csv", PEOPLE), "--store", db)
    run = cli("contacts", "show", "bo@example.com", "--store", db, "-o", "json")
    assert run.code == 0
    data = run.json()
    assert {k: data[k] for k in ("tags", "campaigns", "selections", "projects")} == {
        "tags": [],
        "campaigns": [],
        "selections": [],
        "projects": [],
    }
    assert (data["id"], data["first_name"]) == ("2", "Bo")
    assert {"created_at", "updated_at"} <= data.keys()


def test_show_text_is_a_key_value_view(cli: Cli, write: Any, db: str) -> None:
    cli("contacts", "import", write("people.csv", PEOPLE), "--store", db)
    run = cli("contacts", "show", "id:1", "--store", db)
    assert run.code == 0
    rows = dict(line.split(None, 1) for line in run.out.splitlines())
    assert (rows["email"], rows["tags"], rows["campaigns"]) == ("ann@example.com", "lead, vip", "-")


@pytest.mark.parametrize(("ref", "code"), [("nobody@example.com", 1), ("id:77", 1), ("bob", 2)])
def test_show_unknown_or_bad_ref(cli: Cli, db: str, ref: str, code: int) -> None:
    run = cli("contacts", "show", ref, "--store", db)
    assert run.code == code
    assert run.err.startswith("error: ")
    assert "Traceback" not in run.err


# -- event send -------------------------------------------------------------


def test_send_parses_data_as_json_when_it_can(cli: Cli, db: str) -> None:
    run = cli(
        "event",
        "send",
        "webinar_registered",
        "--contact",
        "ann@example.com",
        "--data",
        "webinar=w1",
        "--data",
        "seats=3",
        "--data",
        "paid=true",
        "--data",
        'slots=["a", "b"]',
        "--data",
        "url=https://x.com/?a=b",
        "--data",
        "zip=007",
        "--store",
        db,
    )
    assert run.code == 0, run.err
    assert run.out.strip() == "event/webinar_registered recorded for ann@example.com"
    sent = [e for e in events(db, "ann@example.com") if e["type"] == "webinar_registered"]
    assert sent[0]["data"] == {
        "webinar": "w1",
        "seats": 3,
        "paid": True,
        "slots": ["a", "b"],
        "url": "https://x.com/?a=b",
        "zip": "007",
    }
    assert sent[0]["at"] == NOW_UTC


def test_send_with_id_twice_is_a_duplicate(cli: Cli, db: str) -> None:
    args = ("event", "send", "sale_created", "--contact", "id:c1", "--id", "order-9")
    first = cli(*args, "--store", db, "-o", "json")
    assert first.json() == {
        "added": True,
        "id": "order-9",
        "type": "sale_created",
        "contact": "id:c1",
    }
    again = cli(*args, "--store", db)
    assert again.code == 0
    assert again.out.strip() == "event/sale_created duplicate (id order-9 already recorded)"
    assert [e["type"] for e in events(db, "id:c1")] == ["contact_created", "sale_created"]


def test_send_at_an_instant(cli: Cli, db: str) -> None:
    cli("event", "send", "x", "--contact", "a@x.com", "--at", "2026-01-02T03:04:05Z", "--store", db)
    [sent] = [e for e in events(db, "a@x.com") if e["type"] == "x"]
    assert sent["at"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "extra",
    [
        ("--data", "novalue"),
        ("--data", "=v"),
        ("--at", "yesterday"),
        ("--at", "2026-03-02T09:00:00"),  # no offset: as event ingest, refused
        ("--at", "2026-03-02"),
        ("--contact", "bob"),
    ],
)
def test_send_usage_errors_exit_2(cli: Cli, db: str, extra: tuple[str, str]) -> None:
    run = cli("event", "send", "x", "--contact", "a@x.com", *extra, "--store", db)
    assert run.code == 2
    assert "Traceback" not in run.err
    assert (
        not Path(db).exists() or cli("contacts", "list", "--store", db, "-o", "json").json() == []
    )


def test_send_tag_added_changes_the_contact(cli: Cli, db: str) -> None:
    cli("event", "send", "tag_added", "--contact", "a@x.com", "--data", "tag=vip", "--store", db)
    assert contact(db, "a@x.com")["tags"] == ["vip"]


def test_send_dotted_data_keys_nest(cli: Cli, db: str) -> None:
    run = cli(
        "event", "send", "contact_updated", "--contact", "a@x.com",
        "--data", "set.category=prospect", "--data", "set.score=5", "--store", db,
    )  # fmt: skip
    assert run.code == 0, run.err
    assert (contact(db, "a@x.com")["category"], contact(db, "a@x.com")["score"]) == ("prospect", 5)
    clash = cli("event", "send", "x", "--contact", "a@x.com", "--data", "a=1", "--data", "a.b=2")
    assert clash.code == 2 and "'a' is given a value already" in clash.err


# -- event ingest -----------------------------------------------------------


def test_ingest_skips_broken_lines_and_exits_1(cli: Cli, write: Any, db: str) -> None:
    path = write(
        "events.jsonl",
        jsonl(
            {"type": "tag_added", "contact": {"email": "a@x.com"}, "data": {"tag": "vip"}},
            '{"type": "x", "contact": ',
            {"type": "page_visited", "contact": {"email": "a@x.com"}, "id": "p1"},
            ["not", "an", "object"],
        ),
    )
    run = cli("event", "ingest", path, "--store", db)
    assert run.code == 1
    assert run.out.strip() == "added 2, duplicates 0, rejected 2"
    assert run.err.splitlines()[0].startswith(f"{path}:2: skipped: not valid JSON")
    assert run.err.splitlines()[1] == f"{path}:4: skipped: expected a JSON object, found list"
    assert contact(db, "a@x.com")["tags"] == ["vip"]


def test_ingest_again_counts_duplicates_and_exits_0(cli: Cli, write: Any, db: str) -> None:
    path = write(
        "events.jsonl",
        jsonl(
            {"type": "tag_added", "contact": {"id": "1"}, "data": {"tag": "t"}, "id": "e1"},
            {"type": "tag_removed", "contact": {"id": "1"}, "data": {"tag": "t"}, "id": "e2"},
        ),
    )
    first = cli("event", "ingest", path, "--store", db, "-o", "json")
    assert (first.code, first.json()) == (0, {"added": 2, "duplicates": 0, "rejected": []})
    again = cli("event", "ingest", path, "--store", db, "-o", "json")
    assert again.json() == {"added": 0, "duplicates": 2, "rejected": []}
    assert contact(db, "id:1").get("tags") == []


def test_ingest_contact_updated_from_stdin(cli: Cli, write: Any, db: str) -> None:
    cli("contacts", "import", write("people.csv", PEOPLE), "--store", db)
    update = {"type": "contact_updated", "contact": {"id": "2"}, "data": {"set": {"country": "SE"}}}
    run = cli("event", "ingest", "-", "--store", db, stdin=jsonl(update))
    assert (run.code, run.out.strip()) == (0, "added 1, duplicates 0, rejected 0")
    assert contact(db, "id:2")["country"] == "SE"
