"""The commands that run flows and show what ran: ``enroll``, ``participants``,
``history``, ``messages`` and ``daemon --once`` (exit codes, JSON keys, tables)."""

from __future__ import annotations

import pytest

from tests.conftest import FLOWS
from tests.daemon.conftest import T0, Flowctl, days
from tests.daemon.conftest import flowctl as flowctl  # the fixture
from tests.daemon.test_daemon import MAILER, MESSAGE_KEYS, PARTICIPANT_KEYS, setup

ENROLL_KEYS = {"flow", "contact", "entered", "reason"}
STATS_KEYS = {"events", "entered", "steps", "messages", "delivered", "failed", "purged", "batches"}


@pytest.fixture
def upsell(flowctl: Flowctl) -> Flowctl:
    """The example flows applied, offer-upsell active, three contacts known."""
    flowctl.apply(FLOWS)
    flowctl.activate("offer-upsell")
    flowctl.import_contacts(
        [
            {"id": "ann-1", "email": "ann@example.com", "first_name": "Ann", "company": "Acme"},
            {"id": "bo-2", "email": "bo@example.com", "tags": ["customer-2"]},
            {"id": "cai-3", "email": "cai@example.com"},
        ]
    )
    return flowctl


# -- enroll ---------------------------------------------------------------------------


def test_enroll_admits_the_contact_and_the_daemon_enters_it(upsell: Flowctl) -> None:
    run = upsell.ok("enroll", "offer-upsell", "--contact", "ann@example.com", "-o", "json")
    assert run.json() == {
        "flow": "offer-upsell",
        "contact": "ann@example.com",
        "entered": True,
        "reason": None,
        "held": False,
    }
    assert set(run.json()) >= ENROLL_KEYS
    assert upsell.once()["entered"] == 1
    row = upsell.participant("offer-upsell", "ann@example.com")
    assert (row["status"], row["current_step"]) == ("waiting", "give-them-time")
    assert upsell.contact("ann@example.com")["campaigns"] == ["campaign-1"]


def test_enroll_by_id_and_in_text(upsell: Flowctl) -> None:
    run = upsell.ok("enroll", "offer-upsell", "--contact", "id:cai-3")
    assert "id:cai-3" in run.out and "flow/offer-upsell" in run.out
    upsell.once()
    assert upsell.participant("offer-upsell", "cai@example.com")["contact"] == "cai-3"


def test_enroll_refused_by_the_filter_exits_1_with_the_reason(upsell: Flowctl) -> None:
    run = upsell("enroll", "offer-upsell", "--contact", "bo@example.com", "-o", "json")
    assert run.code == 1
    assert run.json() == {
        "flow": "offer-upsell",
        "contact": "bo@example.com",
        "entered": False,
        "reason": "filter",
        "held": False,
    }
    text = upsell("enroll", "offer-upsell", "--contact", "bo@example.com")
    assert text.code == 1
    assert "not entered" in text.out and "filter" in text.out
    assert upsell.participants("offer-upsell") == []


def test_enroll_of_an_active_participant_exits_1_already_active(upsell: Flowctl) -> None:
    upsell.ok("enroll", "offer-upsell", "--contact", "ann@example.com")
    upsell.once()
    upsell.at(T0 + days(1))
    run = upsell("enroll", "offer-upsell", "--contact", "ann@example.com", "-o", "json")
    assert (run.code, run.json()["entered"], run.json()["reason"]) == (1, False, "already_active")
    assert len(upsell.participants("offer-upsell")) == 1


def test_enroll_after_the_end_with_reentry_never_exits_1(upsell: Flowctl) -> None:
    upsell.ok("enroll", "offer-upsell", "--contact", "ann@example.com")
    upsell.once()
    upsell.once(T0 + days(5))
    assert upsell.participant("offer-upsell", "ann@example.com")["status"] == "completed"
    run = upsell("enroll", "offer-upsell", "--contact", "ann@example.com", "-o", "json")
    assert (run.code, run.json()["reason"]) == (1, "reentry")


@pytest.mark.parametrize(
    ("flow", "ref", "message"),
    [
        ("offer-upsel", "ann@example.com", "there is no flow 'offer-upsel'"),
        ("offer-upsell", "nobody@example.com", "there is no contact nobody@example.com"),
        ("offer-upsell", "id:nobody", "there is no contact id:nobody"),
    ],
)
def test_enroll_unknown_flow_or_contact_exits_1(
    upsell: Flowctl, flow: str, ref: str, message: str
) -> None:
    run = upsell("enroll", flow, "--contact", ref)
    assert run.code == 1
    assert message in run.err
    assert "Traceback" not in run.err


def test_enroll_into_a_paused_flow_enters_on_resume(upsell: Flowctl) -> None:
    upsell.ok("pause", "offer-upsell")
    run = upsell.ok("enroll", "offer-upsell", "--contact", "ann@example.com", "-o", "json")
    assert (run.json()["entered"], run.json()["held"]) == (True, True)
    assert upsell.once()["entered"] == 0
    assert upsell.participants("offer-upsell") == []
    upsell.at(T0 + days(1)).ok("resume", "offer-upsell")
    assert upsell.once()["entered"] == 1
    assert upsell.participant("offer-upsell", "ann@example.com")["status"] == "waiting"


def test_enroll_into_a_draft_flow_is_refused(upsell: Flowctl) -> None:
    run = upsell("enroll", "lead-nurture", "--contact", "ann@example.com")
    assert run.code == 1
    assert "draft" in run.err
    assert "flowctl activate lead-nurture" in run.err
    assert upsell.participants("lead-nurture") == []


def test_enroll_with_a_bad_reference_is_a_usage_error(upsell: Flowctl) -> None:
    run = upsell("enroll", "offer-upsell", "--contact", "ann")
    assert run.code == 2
    assert "id:VALUE" in run.err


# -- participants, history, messages ---------------------------------------------------


@pytest.fixture
def mailed(flowctl: Flowctl) -> Flowctl:
    """Ann and Bo in the mailer flow; Ann's second mail sent, Bo still waiting."""
    setup(flowctl, MAILER, "mailer")
    flowctl.import_contacts([{"email": "ann@example.com", "company": "Acme"}])
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.at(T0 + days(1)).send("form_submitted", "bo@example.com", form="news")
    flowctl.once()
    flowctl.once(T0 + days(2))
    return flowctl


def test_participants_json(mailed: Flowctl) -> None:
    rows = mailed.participants("mailer")
    assert [r["email"] for r in rows] == ["bo@example.com", "ann@example.com"]  # newest first
    for row in rows:
        assert set(row) >= PARTICIPANT_KEYS
    ann, bo = rows[1], rows[0]
    assert (ann["company"], ann["status"], ann["last_mailing"]) == (
        "Acme",
        "completed",
        "follow-up",
    )
    assert (bo["status"], bo["current_step"], bo["last_mailing"]) == (
        "waiting",
        "pause-2d",
        "hello",
    )
    completed = mailed.participants("mailer", "--status", "completed")
    assert [r["email"] for r in completed] == ["ann@example.com"]


def test_participants_table(mailed: Flowctl) -> None:
    out = mailed.ok("participants", "mailer").out
    header = out.splitlines()[0]
    for column in ("E-MAIL", "COMPANY", "REGISTERED", "STATUS", "CURRENT STEP", "LAST MAILING"):
        assert column in header
    assert "ann@example.com" in out and "completed" in out and "follow-up" in out
    assert "bo@example.com" in out and "pause-2d" in out


def test_participants_of_a_flow_without_any(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    assert flowctl.ok("participants", "mailer").out.strip() == "no participants"
    assert flowctl.participants("mailer") == []


def test_participants_unknown_flow_or_status(mailed: Flowctl) -> None:
    assert mailed("participants", "mailr").code == 1
    assert mailed("participants", "mailer", "--status", "sleeping").code == 2


def test_history_json_by_contact_and_by_flow(mailed: Flowctl) -> None:
    ann = mailed.history(contact="ann@example.com")
    assert [r["step"] for r in ann] == ["second-mail", "pause-2d", "first-mail"]
    for row in ann:
        assert {"at", "flow", "contact", "step", "type", "outcome"} <= set(row)
    assert (ann[0]["type"], ann[0]["outcome"]) == ("send_email", "sent")
    flow = mailed.history(flow="mailer")
    assert len(flow) == 4  # Ann's three, Bo's first mail
    assert [r["at"] for r in flow] == sorted((r["at"] for r in flow), reverse=True)
    assert mailed.history(flow="mailer", limit="1") == flow[:1]


def test_history_table(mailed: Flowctl) -> None:
    out = mailed.ok("history", "--contact", "ann@example.com").out
    assert "STEP" in out.splitlines()[0] and "OUTCOME" in out.splitlines()[0]
    lines = [line for line in out.splitlines()[2:] if line.strip()]
    assert "second-mail" in lines[0] and "first-mail" in lines[-1]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--contact", "ann@example.com", "--flow", "mailer"],
    ],
    ids=["neither", "both"],
)
def test_history_needs_exactly_one_of_contact_and_flow(mailed: Flowctl, args: list[str]) -> None:
    run = mailed("history", *args)
    assert run.code == 2
    assert "--contact" in run.err and "--flow" in run.err
    assert "Traceback" not in run.err


def test_history_unknown_contact_or_flow_exits_1(mailed: Flowctl) -> None:
    assert mailed("history", "--contact", "nobody@example.com").code == 1
    assert mailed("history", "--flow", "nothing").code == 1


def test_messages_json_and_filters(mailed: Flowctl) -> None:
    rows = mailed.messages()
    assert [(m["contact"], m["step"]) for m in rows] == [
        ("ann@example.com", "second-mail"),
        ("bo@example.com", "first-mail"),
        ("ann@example.com", "first-mail"),
    ]
    for row in rows:
        assert set(row) >= MESSAGE_KEYS
        assert (row["channel"], row["status"]) == ("email", "sent")
    unknown = mailed("messages", "--flow", "mailr")
    assert unknown.code == 1 and "there is no flow 'mailr'" in unknown.err
    assert "did you mean 'mailer'?" in unknown.err
    assert mailed.messages("--status", "queued") == []
    assert len(mailed.messages("--status", "sent", "--flow", "mailer")) == 3
    assert len(mailed.messages("--limit", "2")) == 2


def test_messages_table(mailed: Flowctl) -> None:
    out = mailed.ok("messages").out
    header = out.splitlines()[0]
    for column in ("ID", "FLOW", "STEP", "CONTACT", "CHANNEL", "CONTENT", "STATUS"):
        assert column in header
    assert out.count("sent") >= 3
    assert mailed.ok("messages", "--status", "failed").out.strip() == "no messages"
    assert mailed("messages", "--status", "lost").code == 2


# -- daemon --once ----------------------------------------------------------------------


def test_daemon_once_json_counts(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    for who in ("ann@example.com", "bo@example.com"):
        flowctl.send("form_submitted", who, form="news")
    first = flowctl.once()
    assert set(first) == STATS_KEYS
    assert (first["entered"], first["messages"], first["delivered"], first["failed"]) == (
        2,
        2,
        2,
        0,
    )
    assert first["events"] >= 2
    assert first["batches"] >= 1
    later = flowctl.once(T0 + days(2))
    assert (later["entered"], later["messages"], later["delivered"]) == (0, 2, 2)
    assert later["steps"] == 4  # pause-2d and second-mail, twice
    idle = flowctl.once(T0 + days(2))
    assert idle["steps"] == idle["messages"] == idle["delivered"] == 0


def test_daemon_once_text(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    out = flowctl.ok("daemon", "--once").out
    assert "entered 1" in out and "messages queued 1" in out and "sent 1" in out


def test_daemon_once_on_an_empty_store(flowctl: Flowctl) -> None:
    stats = flowctl.once()
    assert set(stats) == STATS_KEYS
    assert not any(stats.values())


def test_daemon_bad_tick_is_one_clear_message(flowctl: Flowctl) -> None:
    run = flowctl("daemon", "--once", "--tick", "soon")
    assert run.code in (1, 2)
    assert "'soon' is not a duration" in run.err
    assert "Traceback" not in run.err


def test_daemon_bad_tick_exits_2(flowctl: Flowctl) -> None:
    assert flowctl("daemon", "--once", "--tick", "soon").code == 2


def test_daemon_tick_takes_a_fraction_of_a_second(flowctl: Flowctl) -> None:
    assert flowctl.ok("daemon", "--once", "--tick", "PT0.05S").code == 0
    assert flowctl.ok("daemon", "--once", "--tick", "0.05s").code == 0


def test_a_participant_whose_wait_ended_shows_active_until_the_daemon_runs(
    flowctl: Flowctl,
) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "waiting"
    flowctl.at(T0 + days(3))  # pause-2d has ended; no daemon run yet
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "active"
    assert [p["email"] for p in flowctl.participants("mailer", "--status", "active")] == [
        "ann@example.com"
    ]
    assert flowctl.participants("mailer", "--status", "waiting") == []
    statuses = flowctl.json("describe", "mailer")["statuses"]  # the same count everywhere
    assert (statuses["active"], statuses["waiting"]) == (1, 0)
    flowctl.once()
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "completed"
