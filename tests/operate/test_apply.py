"""`flowctl apply`, `diff` and `rollback`: versions, dry runs, validation, rights, migration.

Every test runs the CLI in-process against a store file in ``tmp_path`` with
``FLOWCTL_NOW`` fixed, and reads the store back through the Store API. The
helpers here (flow texts, :func:`add_participants`) are shared with the
lifecycle and CLI tests.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from flowctl.engine import ParticipantState
from flowctl.engine.state import Event
from flowctl.store import FLOW, Store, open_store
from flowctl.store.records import Batch, NewMessage
from flowctl.timeutil import parse_instant
from tests.conftest import FLOWS, Run

Cli = Callable[..., Run]
Write = Callable[[str, str], Path]

NOW = "2026-03-02T10:00:00+01:00"
LATER = "2026-03-03T09:30:00+01:00"

FLOW_V1 = """\
# The demo flow, version 1.
apiVersion: flowctl/v1
kind: Flow
metadata:
  name: demo
  title: Demo flow
spec:
  triggers:
    - type: form_submitted
  steps:
    - id: hello
      type: send_email
      mailing: m-hello
    - id: wait
      type: delay
      duration: 2d
    - id: tag-it
      type: add_tag
      tag: done
    - id: bye
      type: send_email
      mailing: m-bye
"""

# The same document: keys reordered, flow style, other comments.
FLOW_V1_REFORMATTED = """\
kind: Flow   # reordered and reformatted
apiVersion: flowctl/v1
metadata: {title: "Demo flow", name: demo}
spec:
  steps:
    - {type: send_email, id: hello, mailing: m-hello}
    - {duration: 2d, id: wait, type: delay}   # two days
    - {tag: done, type: add_tag, id: tag-it}
    - {id: bye, mailing: m-bye, type: send_email}
  triggers: [{type: form_submitted}]
"""

# Only the comments differ from FLOW_V1.
FLOW_V1_NEW_COMMENTS = FLOW_V1.replace(
    "# The demo flow, version 1.", "# Other words, same flow.\n# And one more line."
).replace("duration: 2d", "duration: 2d   # wait two days")

# A real change: the delay is 3d and the step tag-it is gone.
FLOW_V2 = FLOW_V1.replace("duration: 2d", "duration: 3d").replace(
    "    - id: tag-it\n      type: add_tag\n      tag: done\n", ""
)

CONTENT = """\
# Content of the demo flow.
apiVersion: flowctl/v1
kind: Mailing
metadata:
  name: m-hello
spec:
  from: "Acme <hello@acme.example>"
  subject: "Hello"
  text: "Hi {{ contact.first_name | default('there') }}"
---
apiVersion: flowctl/v1
kind: Mailing
metadata:
  name: m-bye
spec:
  from: "Acme <hello@acme.example>"
  subject: "Bye"
  text: "Bye for now"
"""

INVALID_FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata:
  name: broken
spec:
  triggers:
    - type: form_submitted
  steps:
    - id: same
      type: add_tag
      tag: a
    - id: same
      type: add_tag
      tag: b
"""


# -- shared helpers ---------------------------------------------------------


def at(text: str) -> datetime:
    """An instant from ISO 8601 text."""
    return parse_instant(text)


def read(store: str) -> Store:
    """The store at ``store``, opened for reading back (use with ``with``)."""
    return open_store(store, create=False)


def parse_yaml(text: str) -> Any:
    return YAML(typ="safe").load(io.StringIO(text))


@dataclass(frozen=True)
class P:
    """A participant to insert: contact id, status, step and what it waits for."""

    contact: str
    status: str
    step: str | None
    hold: str | None = None


def add_participants(
    store: str, people: Sequence[P], *, flow: str = "demo", version: int = 1
) -> list[str]:
    """Put participants straight into the store (test setup); returns their ids.

    Each gets a contact (``insert_contacts``, id = ``P.contact``) and entered an
    hour before NOW; waiting ones are due a day after NOW, final ones ended
    half an hour after entering.
    """
    now = at(NOW)
    entered = now - timedelta(hours=1)
    states: list[ParticipantState] = []
    for p in people:
        waiting = p.status == "waiting"
        final = p.status in ("completed", "succeeded", "exited", "canceled")
        states.append(
            ParticipantState(
                flow=flow,
                version=version,
                contact=p.contact,
                status=p.status,
                step=p.step,
                due=now + timedelta(days=1) if waiting else None,
                entered_at=entered,
                trigger=Event("form_submitted", entered, {}),
                ended_at=entered + timedelta(minutes=30) if final else None,
                hold=p.hold,
                wait_since=entered if waiting else None,
            )
        )
    with open_store(store) as st:
        cids = st.insert_contacts(
            [{"id": p.contact, "email": f"{p.contact}@example.com"} for p in people], now
        )
        st.commit_batch(Batch(entered=list(zip(cids, states, strict=True))), now)
    return [s.id for s in states]


def queue_message(store: str, contact: str, *, flow: str = "demo", step: str = "bye") -> None:
    """Queue one unsent e-mail for the participant of ``contact`` (test setup)."""
    with open_store(store) as st:
        (row,) = st.find_contacts(ids=[contact])
        (state,) = [s for s in st.participations([row.cid])[row.cid] if s.flow == flow]
        message = NewMessage(
            key=f"{state.id}:{state.version}:{step}:1",
            flow=flow,
            step=step,
            participant=state.id,
            cid=row.cid,
            channel="email",
            content="m-bye",
            to=f"{contact}@example.com",
            payload={"from": "Acme <hello@acme.example>", "subject": "Bye", "text": "Bye"},
        )
        st.commit_batch(Batch(messages=[message]), at(NOW))


def participant_state(store: str, contact: str, *, flow: str = "demo") -> ParticipantState:
    """The participation of ``contact`` in ``flow`` read back, final ones included."""
    with read(store) as st:
        (row,) = st.find_contacts(ids=[contact])
        found = [s for s in st.participations([row.cid]).get(row.cid, []) if s.flow == flow]
    assert len(found) == 1, found
    return found[0]


def seed(cli: Cli, store: str, *paths: Path) -> None:
    """Apply ``paths``, asserting it works."""
    run = cli("apply", *paths, "--store", store)
    assert run.code == 0, run.err


# -- fixtures ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fixed clock and user, no stray store or config from the environment."""
    monkeypatch.setenv("FLOWCTL_NOW", NOW)
    monkeypatch.setenv("FLOWCTL_USER", "ann")
    monkeypatch.delenv("FLOWCTL_STORE", raising=False)
    monkeypatch.delenv("FLOWCTL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> str:
    """The path of the test's store file (not created yet)."""
    return str(tmp_path / "flowctl.db")


@pytest.fixture
def flow_file(write: Write) -> Path:
    return write("flows/demo.yaml", FLOW_V1)


@pytest.fixture
def content_file(write: Write) -> Path:
    return write("flows/content.yaml", CONTENT)


# -- apply: created, unchanged, configured ----------------------------------


def test_apply_creates_then_unchanged_then_configured(
    cli: Cli, store: str, flow_file: Path, content_file: Path
) -> None:
    run = cli("apply", flow_file, content_file, "--store", store, "-o", "json")
    assert run.code == 0, run.err
    assert sorted(run.json(), key=lambda c: c["name"]) == [
        {"kind": "Flow", "name": "demo", "result": "created", "version": 1},
        {"kind": "Mailing", "name": "m-bye", "result": "created", "version": 1},
        {"kind": "Mailing", "name": "m-hello", "result": "created", "version": 1},
    ]

    again = cli("apply", flow_file, content_file, "--store", store, "-o", "json")
    assert again.code == 0, again.err
    assert {c["result"] for c in again.json()} == {"unchanged"}
    assert {c["version"] for c in again.json()} == {1}

    flow_file.write_text(FLOW_V2, encoding="utf-8")
    changed = cli("apply", flow_file, "--store", store)
    assert changed.code == 0, changed.err
    assert changed.out.strip() == "flow/demo configured"

    with read(store) as st:
        versions = st.versions(FLOW, "demo")
        assert [v.version for v in versions] == [1, 2]
        current = st.document(FLOW, "demo")
        assert current is not None and current.version == 2
        assert current.source == FLOW_V2
        assert versions[0].source == FLOW_V1
        assert current.document == parse_yaml(FLOW_V2)
        assert current.created_by == "ann"
        assert current.created_at == at(NOW)
        flow = st.flow("demo")
        assert flow is not None and (flow.version, flow.state) == (2, "draft")
        assert [(d.kind, d.name, d.version) for d in st.documents("Mailing")] == [
            ("Mailing", "m-bye", 1),
            ("Mailing", "m-hello", 1),
        ]


def test_apply_text_output_names_each_document(
    cli: Cli, store: str, flow_file: Path, content_file: Path
) -> None:
    run = cli("apply", content_file, flow_file, "--store", store)
    assert run.code == 0, run.err
    assert set(run.out.splitlines()) == {
        "mailing/m-hello created",
        "mailing/m-bye created",
        "flow/demo created",
    }
    again = cli("apply", content_file, flow_file, "--store", store)
    assert set(again.out.splitlines()) == {
        "mailing/m-hello unchanged",
        "mailing/m-bye unchanged",
        "flow/demo unchanged",
    }


@pytest.mark.parametrize(
    "text",
    [FLOW_V1_REFORMATTED, FLOW_V1_NEW_COMMENTS],
    ids=["reformatted-reordered", "comments-only"],
)
def test_apply_same_document_in_other_form_is_unchanged(
    cli: Cli, store: str, flow_file: Path, text: str
) -> None:
    seed(cli, store, flow_file)
    assert parse_yaml(text) == parse_yaml(FLOW_V1)  # the premise: the same document
    flow_file.write_text(text, encoding="utf-8")
    run = cli("apply", flow_file, "--store", store, "-o", "json")
    assert run.code == 0, run.err
    assert run.json() == [{"kind": "Flow", "name": "demo", "result": "unchanged", "version": 1}]
    with read(store) as st:
        assert [v.version for v in st.versions(FLOW, "demo")] == [1]
        doc = st.document(FLOW, "demo")
        assert doc is not None and doc.source == FLOW_V1  # the stored text stays


def test_apply_metadata_change_is_a_new_version(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V1.replace("title: Demo flow", "title: Demo"), encoding="utf-8")
    run = cli("apply", flow_file, "--store", store, "-o", "json")
    assert run.json() == [{"kind": "Flow", "name": "demo", "result": "configured", "version": 2}]
    with read(store) as st:
        row = st.flow("demo")
        assert row is not None and row.title == "Demo"


def test_apply_multi_document_file_stores_each_documents_own_text(
    cli: Cli, store: str, content_file: Path
) -> None:
    seed(cli, store, content_file)
    text = CONTENT
    with read(store) as st:
        hello = st.document("Mailing", "m-hello")
        bye = st.document("Mailing", "m-bye")
    assert hello is not None and bye is not None
    for doc, other in ((hello, "m-bye"), (bye, "m-hello")):
        assert doc.source.strip()
        assert doc.source in text  # a verbatim part of the file ...
        assert other not in doc.source  # ... holding only its own document
        assert "---" not in doc.source
        assert parse_yaml(doc.source) == dict(doc.document)
    assert hello.source.startswith("# Content of the demo flow.")
    assert bye.source.startswith("apiVersion: flowctl/v1")
    assert bye.source.endswith('text: "Bye for now"\n')
    assert hello.path == bye.path == str(content_file)


def test_apply_changed_document_in_multi_document_file_keeps_others_unchanged(
    cli: Cli, store: str, content_file: Path
) -> None:
    seed(cli, store, content_file)
    content_file.write_text(CONTENT.replace("Bye for now", "See you"), encoding="utf-8")
    run = cli("apply", content_file, "--store", store, "-o", "json")
    assert {c["name"]: (c["result"], c["version"]) for c in run.json()} == {
        "m-hello": ("unchanged", 1),
        "m-bye": ("configured", 2),
    }
    with read(store) as st:
        bye = st.document("Mailing", "m-bye")
        assert bye is not None and "See you" in bye.source and "m-hello" not in bye.source


def test_apply_file_with_a_yaml_directive_stores_each_documents_own_text(
    cli: Cli, store: str, write: Write
) -> None:
    text = (
        "%YAML 1.2\n"
        "---\n"
        "apiVersion: flowctl/v1\nkind: Sms\nmetadata: {name: first}\nspec: {text: One}\n"
        "---\n"
        "apiVersion: flowctl/v1\nkind: Sms\nmetadata: {name: second}\nspec: {text: Two}\n"
    )
    seed(cli, store, write("flows/sms.yaml", text))
    with read(store) as st:
        first = st.document("Sms", "first")
        second = st.document("Sms", "second")
    assert first is not None and second is not None
    assert "name: first" in first.source and "name: second" not in first.source
    assert "name: second" in second.source and "name: first" not in second.source


# -- apply --dry-run --------------------------------------------------------


def test_apply_dry_run_writes_nothing(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    with read(store) as st:
        audit_before = st.audit_log()
    flow_file.write_text(FLOW_V2, encoding="utf-8")

    run = cli("apply", flow_file, "--dry-run", "--store", store)
    assert run.code == 0, run.err
    assert run.out.strip() == "flow/demo configured (dry run)"
    as_json = cli("apply", flow_file, "--dry-run", "--store", store, "-o", "json")
    assert as_json.json() == [
        {"kind": "Flow", "name": "demo", "result": "configured", "version": 2}
    ]

    with read(store) as st:
        assert [v.version for v in st.versions(FLOW, "demo")] == [1]
        doc = st.document(FLOW, "demo")
        assert doc is not None and doc.source == FLOW_V1
        assert st.audit_log() == audit_before


def test_apply_dry_run_on_a_fresh_store_path_leaves_no_broken_store(
    cli: Cli, store: str, flow_file: Path, content_file: Path
) -> None:
    run = cli("apply", flow_file, content_file, "--dry-run", "--store", store, "-o", "json")
    assert run.code == 0, run.err
    assert {c["result"] for c in run.json()} == {"created"}
    if Path(store).exists():  # if a file is left, it must be a usable, empty store
        with read(store) as st:
            assert st.documents() == []
            assert st.audit_log() == []
    real = cli("apply", flow_file, content_file, "--store", store, "-o", "json")
    assert real.code == 0, real.err
    assert {c["result"] for c in real.json()} == {"created"}
    with read(store) as st:
        assert len(st.documents()) == 3


# -- apply: validation first, all or nothing --------------------------------


def test_apply_invalid_file_among_valid_ones_writes_nothing(
    cli: Cli, store: str, write: Write, flow_file: Path, content_file: Path
) -> None:
    broken = write("flows/broken.yaml", INVALID_FLOW)
    run = cli("apply", content_file, flow_file, broken, "--store", store)
    assert run.code == 1
    assert "duplicate-step-id" in run.err
    assert "broken.yaml" in run.err
    assert "nothing was done" in run.err
    assert "Traceback" not in run.err
    assert run.out == ""
    if Path(store).exists():
        with read(store) as st:
            assert st.documents() == []
            assert st.flows() == []
            assert st.audit_log() == []


def test_apply_invalid_file_leaves_earlier_versions_alone(
    cli: Cli, store: str, write: Write, flow_file: Path
) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    broken = write("flows/broken.yaml", "apiVersion: flowctl/v1\nkind: Flow\nmetadata: [\n")
    run = cli("apply", flow_file, broken, "--store", store, "-o", "json")
    assert run.code == 1
    assert "yaml-syntax" in run.err
    with read(store) as st:
        assert [v.version for v in st.versions(FLOW, "demo")] == [1]


def test_apply_flowtest_documents_are_not_stored(cli: Cli, store: str) -> None:
    run = cli(
        "apply",
        FLOWS / "offer-upsell.yaml",
        FLOWS / "tests" / "offer-upsell.test.yaml",
        "--store",
        store,
        "-o",
        "json",
    )
    assert run.code == 0, run.err
    assert run.json() == [
        {"kind": "Flow", "name": "offer-upsell", "result": "created", "version": 1}
    ]
    with read(store) as st:
        assert [(d.kind, d.name) for d in st.documents()] == [("Flow", "offer-upsell")]
    text = cli("apply", FLOWS / "tests" / "offer-upsell.test.yaml", "--store", store)
    assert text.code == 0, text.err
    assert "FlowTest documents not stored" in text.err
    assert text.out == ""


def test_apply_every_example_flow(cli: Cli, store: str) -> None:
    run = cli("apply", FLOWS, "--store", store, "-o", "json")
    assert run.code == 0, run.err
    changes = run.json()
    assert isinstance(changes, list) and changes
    for change in changes:
        assert set(change) == {"kind", "name", "result", "version"}
        assert change["result"] == "created"
        assert change["version"] == 1
        assert change["kind"] in {"Flow", "Mailing", "Sms"}
    examples = {p.stem for p in FLOWS.glob("*.yaml")}
    assert {c["name"] for c in changes if c["kind"] == "Flow"} == examples
    with read(store) as st:
        assert {(d.kind, d.name) for d in st.documents()} == {
            (c["kind"], c["name"]) for c in changes
        }
        assert len(st.documents()) == len(changes)
        assert {f.name for f in st.flows()} == examples
        assert {f.state for f in st.flows()} == {"draft"}
        assert not any(d.kind == "FlowTest" for d in st.documents())

    again = cli("apply", FLOWS, "--store", store, "-o", "json")
    assert again.code == 0, again.err
    assert {c["result"] for c in again.json()} == {"unchanged"}


def test_flow_naming_content_applied_earlier_has_no_warning(
    cli: Cli, store: str, tmp_path: Path, flow_file: Path, content_file: Path
) -> None:
    alone = cli("apply", flow_file, "--store", str(tmp_path / "other.db"))
    assert alone.code == 0, alone.err
    assert "unknown-content-ref" in alone.err  # the premise: without the store it warns

    seed(cli, store, content_file)
    run = cli("apply", flow_file, "--store", store)
    assert run.code == 0, run.err
    assert "unknown-content-ref" not in run.err
    assert "warning" not in run.err
    assert run.out.strip() == "flow/demo created"


# -- apply: rights and audit ------------------------------------------------


def add_user(store: str, name: str, role: str) -> None:
    with open_store(store) as st:
        st.set_user(name, role, at(NOW))


def test_content_editor_cannot_apply_a_flow_but_can_apply_content(
    cli: Cli, store: str, monkeypatch: pytest.MonkeyPatch, flow_file: Path, content_file: Path
) -> None:
    add_user(store, "ann", "flow-admin")
    add_user(store, "carl", "content-editor")
    monkeypatch.setenv("FLOWCTL_USER", "carl")

    refused = cli("apply", flow_file, "--store", store)
    assert refused.code == 1
    assert "apply, delete or roll back a flow" in refused.err
    assert "content-editor" in refused.err
    assert "Traceback" not in refused.err

    mixed = cli("apply", flow_file, content_file, "--store", store)
    assert mixed.code == 1
    with read(store) as st:
        assert st.documents() == []

    content = cli("apply", content_file, "--store", store, "-o", "json")
    assert content.code == 0, content.err
    assert {c["result"] for c in content.json()} == {"created"}
    with read(store) as st:
        assert {d.name for d in st.documents()} == {"m-hello", "m-bye"}
        assert {e.user for e in st.audit_log()} == {"carl"}

    monkeypatch.setenv("FLOWCTL_USER", "ann")
    admin = cli("apply", flow_file, "--store", store)
    assert admin.code == 0, admin.err
    assert admin.out.strip() == "flow/demo created"


def test_apply_with_users_defined_and_an_unknown_user_is_refused(
    cli: Cli, store: str, monkeypatch: pytest.MonkeyPatch, content_file: Path
) -> None:
    add_user(store, "ann", "flow-admin")
    monkeypatch.setenv("FLOWCTL_USER", "mallory")
    run = cli("apply", content_file, "--store", store)
    assert run.code == 1
    assert "mallory" in run.err
    assert "ann" in run.err  # the hint names who may act
    with read(store) as st:
        assert st.documents() == []


def test_apply_of_unchanged_files_by_an_unknown_user_is_refused_too(
    cli: Cli, store: str, monkeypatch: pytest.MonkeyPatch, content_file: Path
) -> None:
    assert cli("apply", content_file, "--store", store).code == 0
    add_user(store, "ann", "flow-admin")
    monkeypatch.setenv("FLOWCTL_USER", "mallory")
    run = cli("apply", content_file, "--store", store)
    assert run.code == 1
    assert "'mallory' is not a user of this store" in run.err


def test_apply_writes_audit_entries(
    cli: Cli, store: str, flow_file: Path, content_file: Path
) -> None:
    seed(cli, store, flow_file, content_file)
    with read(store) as st:
        entries = st.audit_log()
    assert {(e.user, e.command, e.object) for e in entries} == {
        ("ann", "apply", "flow/demo"),
        ("ann", "apply", "mailing/m-hello"),
        ("ann", "apply", "mailing/m-bye"),
    }
    assert {e.at for e in entries} == {at(NOW)}
    assert all(e.detail and "created" in e.detail for e in entries)

    seed(cli, store, flow_file, content_file)  # unchanged: no change, no entry
    with read(store) as st:
        assert len(st.audit_log()) == 3

    flow_file.write_text(FLOW_V2, encoding="utf-8")
    seed(cli, store, flow_file)
    with read(store) as st:
        newest = st.audit_log()[0]
    assert (newest.command, newest.object) == ("apply", "flow/demo")
    assert newest.detail is not None and "version 2" in newest.detail


# -- apply: participants migrate on a new version (spec §9) -----------------

PEOPLE = [
    P("kept-waiting", "waiting", "wait", "delay"),  # at a kept step
    P("kept-active", "active", "bye"),  # at a kept step
    P("removed", "active", "tag-it"),  # at a removed step
    P("done", "completed", None),  # final: never touched
]


def test_apply_migrates_live_participants(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    add_participants(store, PEOPLE)
    flow_file.write_text(FLOW_V2, encoding="utf-8")

    run = cli("apply", flow_file, "--store", store)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "flow/demo configured"
    assert "2 participants go on in version 2" in run.out
    assert "1 exit" in run.out

    with read(store) as st:
        live = {s.contact: s for s in st.live_participants("demo")}
        assert st.participant_counts("demo") == {
            "waiting": 1,
            "active": 1,
            "exited": 1,
            "completed": 1,
        }
    assert set(live) == {"kept-waiting", "kept-active"}
    assert {s.version for s in live.values()} == {2}
    assert live["kept-waiting"].status == "waiting"
    assert live["kept-waiting"].step == "wait"
    assert live["kept-active"].step == "bye"

    gone = participant_state(store, "removed")
    assert (gone.status, gone.reason, gone.version) == ("exited", "step_removed", 1)
    assert gone.ended_at == at(NOW)
    assert gone.due is None
    untouched = participant_state(store, "done")
    assert (untouched.status, untouched.version) == ("completed", 1)


def test_apply_json_counts_participants_that_migrate_or_exit(
    cli: Cli, store: str, flow_file: Path
) -> None:
    seed(cli, store, flow_file)
    add_participants(store, PEOPLE)
    flow_file.write_text(FLOW_V2, encoding="utf-8")

    dry = cli("apply", flow_file, "--dry-run", "--store", store, "-o", "json")
    assert dry.code == 0, dry.err
    expected = {
        "kind": "Flow",
        "name": "demo",
        "result": "configured",
        "version": 2,
        "participants": {"migrate": 2, "step_removed": 1, "keep": 0},
    }
    assert dry.json() == [expected]
    with read(store) as st:  # the dry run says beforehand, and moves no one
        assert {s.version for s in st.live_participants("demo")} == {1}
        assert len(st.live_participants("demo")) == 3

    run = cli("apply", flow_file, "--store", store, "-o", "json")
    assert run.json() == [expected]
    with read(store) as st:
        assert len(st.live_participants("demo")) == 2


def test_apply_with_on_update_keep_leaves_participants_on_their_version(
    cli: Cli, store: str, flow_file: Path
) -> None:
    keep_v1 = FLOW_V1 + "  on_update: keep\n"
    flow_file.write_text(keep_v1, encoding="utf-8")
    seed(cli, store, flow_file)
    add_participants(store, PEOPLE)
    keep_v2 = FLOW_V2 + "  on_update: keep\n"
    flow_file.write_text(keep_v2, encoding="utf-8")

    run = cli("apply", flow_file, "--store", store, "-o", "json")
    assert run.code == 0, run.err
    assert run.json() == [
        {
            "kind": "Flow",
            "name": "demo",
            "result": "configured",
            "version": 2,
            "participants": {"migrate": 0, "step_removed": 0, "keep": 3},
        }
    ]
    with read(store) as st:
        live = st.live_participants("demo")
        assert st.participant_counts("demo") == {"waiting": 1, "active": 2, "completed": 1}
    assert {s.version for s in live} == {1}
    assert {s.step for s in live} == {"wait", "bye", "tag-it"}

    text = cli("apply", FLOWS / "offer-upsell.yaml", "--store", store)  # unrelated: no counts
    assert "participants" not in text.out


def test_apply_keep_text_output(cli: Cli, store: str, flow_file: Path) -> None:
    flow_file.write_text(FLOW_V1 + "  on_update: keep\n", encoding="utf-8")
    seed(cli, store, flow_file)
    add_participants(store, PEOPLE[:2])
    flow_file.write_text(FLOW_V2 + "  on_update: keep\n", encoding="utf-8")
    run = cli("apply", flow_file, "--store", store)
    assert run.code == 0, run.err
    assert "2 participants finish on their version" in run.out


def test_apply_unchanged_flow_moves_no_participant(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    add_participants(store, PEOPLE)
    flow_file.write_text(FLOW_V1_REFORMATTED, encoding="utf-8")
    run = cli("apply", flow_file, "--store", store, "-o", "json")
    assert run.json() == [{"kind": "Flow", "name": "demo", "result": "unchanged", "version": 1}]
    with read(store) as st:
        assert len(st.live_participants("demo")) == 3


# -- diff -------------------------------------------------------------------


def test_diff_same_exits_zero(cli: Cli, store: str, flow_file: Path, content_file: Path) -> None:
    seed(cli, store, flow_file, content_file)
    run = cli("diff", flow_file, content_file, "--store", store)
    assert run.code == 0, run.err
    assert run.out == ""


@pytest.mark.parametrize("text", [FLOW_V1_REFORMATTED, FLOW_V1_NEW_COMMENTS])
def test_diff_reformatted_is_no_change(cli: Cli, store: str, flow_file: Path, text: str) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(text, encoding="utf-8")
    run = cli("diff", flow_file, "--store", store)
    assert run.code == 0, run.err
    assert run.out == ""


def test_diff_changed_shows_a_unified_diff(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    run = cli("diff", flow_file, "--store", store)
    assert run.code == 1, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("--- ") and "flow/demo" in lines[0]
    assert lines[1].startswith("+++ ") and str(flow_file) in lines[1]
    assert any(line.startswith("@@") for line in lines)
    assert "-      duration: 2d" in lines
    assert "+      duration: 3d" in lines
    assert "-    - id: tag-it" in lines
    with read(store) as st:  # diff writes nothing
        assert [v.version for v in st.versions(FLOW, "demo")] == [1]


def test_diff_shows_only_the_changed_document_of_a_file(
    cli: Cli, store: str, content_file: Path
) -> None:
    seed(cli, store, content_file)
    content_file.write_text(CONTENT.replace("Bye for now", "See you"), encoding="utf-8")
    run = cli("diff", content_file, "--store", store)
    assert run.code == 1
    lines = run.out.splitlines()
    assert '-  text: "Bye for now"' in lines
    assert '+  text: "See you"' in lines
    assert "mailing/m-bye" in lines[0]
    assert "m-hello" not in run.out


def test_diff_new_document_diffs_from_dev_null(
    cli: Cli, store: str, flow_file: Path, content_file: Path
) -> None:
    seed(cli, store, flow_file)
    run = cli("diff", flow_file, content_file, "--store", store)
    assert run.code == 1
    assert "--- /dev/null" in run.out
    assert "+  name: m-hello" in run.out.splitlines()
    assert "+  name: m-bye" in run.out.splitlines()
    assert "duration" not in run.out  # the flow is the same


def test_diff_invalid_file_exits_two(cli: Cli, store: str, write: Write, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    broken = write("flows/broken.yaml", INVALID_FLOW)
    run = cli("diff", flow_file, broken, "--store", store)
    assert run.code == 2
    assert "duplicate-step-id" in run.err
    assert "Traceback" not in run.err


def test_diff_against_a_missing_store(cli: Cli, store: str, flow_file: Path) -> None:
    run = cli("diff", flow_file, "--store", store)
    assert run.code == 1, run.err
    assert "--- /dev/null" in run.out
    assert not Path(store).exists()  # a read-only command leaves no file behind


def test_diff_against_an_empty_store(cli: Cli, store: str, flow_file: Path) -> None:
    open_store(store).close()
    run = cli("diff", flow_file, "--store", store)
    assert run.code == 1, run.err
    assert "+  name: demo" in run.out.splitlines()


def test_diff_with_nothing_to_store_exits_zero(cli: Cli, store: str) -> None:
    run = cli("diff", FLOWS / "tests" / "offer-upsell.test.yaml", FLOWS / "offer-upsell.yaml")
    assert run.code == 1  # the flow is new to the (missing) default store
    only_tests = cli("diff", FLOWS / "tests" / "offer-upsell.test.yaml", "--store", store)
    assert only_tests.code == 0, only_tests.err
    assert only_tests.out == ""


# -- rollback ---------------------------------------------------------------


def test_rollback_makes_an_old_version_current_as_a_new_one(
    cli: Cli, store: str, flow_file: Path
) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    seed(cli, store, flow_file)

    run = cli("rollback", "demo", "--to", "1", "--store", store)
    assert run.code == 0, run.err
    assert "version 3" in run.out and "version 1" in run.out
    with read(store) as st:
        versions = st.versions(FLOW, "demo")
        assert [v.version for v in versions] == [1, 2, 3]
        assert versions[2].document == versions[0].document
        assert versions[2].source == versions[0].source
        assert versions[2].hash == versions[0].hash
        flow = st.flow("demo")
        assert flow is not None and flow.version == 3
        newest = st.audit_log()[0]
        assert newest.object == "flow/demo" and "rollback" in newest.command

    flow_file.write_text(FLOW_V1, encoding="utf-8")  # the files agree with version 3 now
    assert cli("diff", flow_file, "--store", store).code == 0
    again = cli("apply", flow_file, "--store", store, "-o", "json")
    assert again.json() == [{"kind": "Flow", "name": "demo", "result": "unchanged", "version": 3}]


def test_rollback_json(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    seed(cli, store, flow_file)
    run = cli("rollback", "demo", "--to", "1", "--store", store, "-o", "json")
    assert run.code == 0, run.err
    assert run.json() == {"kind": "Flow", "name": "demo", "result": "configured", "version": 3}


def test_rollback_to_the_current_version_changes_nothing(
    cli: Cli, store: str, flow_file: Path
) -> None:
    seed(cli, store, flow_file)
    run = cli("rollback", "demo", "--to", "1", "--store", store)
    assert run.code == 0, run.err
    assert "unchanged" in run.out
    with read(store) as st:
        assert [v.version for v in st.versions(FLOW, "demo")] == [1]


def test_rollback_migrates_participants(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    seed(cli, store, flow_file)
    add_participants(store, [P("w", "waiting", "wait", "delay")], version=2)
    run = cli("rollback", "demo", "--to", "1", "--store", store, "-o", "json")
    assert run.json()["participants"] == {"migrate": 1, "step_removed": 0, "keep": 0}
    with read(store) as st:
        assert [s.version for s in st.live_participants("demo")] == [3]


def test_rollback_says_what_happens_to_the_participants(
    cli: Cli, store: str, flow_file: Path
) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    seed(cli, store, flow_file)
    add_participants(store, [P("w", "waiting", "wait", "delay")], version=2)
    run = cli("rollback", "demo", "--to", "1", "--store", store)
    assert run.code == 0
    assert "1 participants go on in version 3, 0 exit" in run.out


def test_rollback_to_an_unknown_version_names_the_range(
    cli: Cli, store: str, flow_file: Path
) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    seed(cli, store, flow_file)
    run = cli("rollback", "demo", "--to", "7", "--store", store)
    assert run.code == 1
    assert "no version 7" in run.err
    assert "1 to 2" in run.err
    assert "Traceback" not in run.err
    with read(store) as st:
        assert [v.version for v in st.versions(FLOW, "demo")] == [1, 2]


def test_rollback_of_an_unknown_flow_suggests_a_name(cli: Cli, store: str, flow_file: Path) -> None:
    seed(cli, store, flow_file)
    run = cli("rollback", "dmeo", "--to", "1", "--store", store)
    assert run.code == 1
    assert "there is no flow 'dmeo'" in run.err
    assert "did you mean 'demo'?" in run.err
    assert "Traceback" not in run.err


def test_rollback_needs_the_flow_right(
    cli: Cli, store: str, monkeypatch: pytest.MonkeyPatch, flow_file: Path
) -> None:
    seed(cli, store, flow_file)
    flow_file.write_text(FLOW_V2, encoding="utf-8")
    seed(cli, store, flow_file)
    add_user(store, "ann", "flow-admin")
    add_user(store, "carl", "content-editor")
    monkeypatch.setenv("FLOWCTL_USER", "carl")
    run = cli("rollback", "demo", "--to", "1", "--store", store)
    assert run.code == 1
    assert "apply, delete or roll back a flow" in run.err
    with read(store) as st:
        assert [v.version for v in st.versions(FLOW, "demo")] == [1, 2]
