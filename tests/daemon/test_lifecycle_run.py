"""The lifecycle as the daemon lives it (spec §8, §9): pause, resume, deactivate,
cancel-scheduled, and a new version applied while participants wait."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from tests.channels.conftest import Mailbox, SmtpServer
from tests.daemon.conftest import T0, Flowctl, days, smtp_config
from tests.daemon.test_daemon import MAILER, WATCH, setup

HOUR = days(1) / 24


def iso_utc(moment: datetime) -> str:
    """An instant as the JSON views write it."""
    return moment.astimezone(UTC).isoformat()


# MAILER with a step added after the delay (ids kept) ...
MAILER_V2_KEPT = MAILER.replace(
    "    - id: second-mail\n",
    "    - id: mark-migrated\n      type: add_tag\n      tag: migrated\n    - id: second-mail\n",
)
# ... and with the delay renamed (the id pause-2d is gone)
MAILER_V2_REMOVED = MAILER.replace("id: pause-2d", "id: wait-2d")
TRIGGER = "  triggers: [{type: form_submitted, form: news}]\n"
MAILER_KEEP = MAILER.replace(TRIGGER, TRIGGER + "  on_update: keep\n")


def test_pause_holds_due_steps_and_keeps_triggers_for_the_resume(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER + "---\n" + WATCH, "mailer", "vip-watch")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    assert flowctl.participant("mailer", "ann@example.com")["current_step"] == "pause-2d"

    flowctl.at(T0 + days(1)).ok("pause", "mailer")
    flowctl.send("form_submitted", "bo@example.com", form="news")  # a trigger during the pause
    flowctl.send("form_submitted", "cai@example.com", form="vip")  # another flow runs on
    stats = flowctl.once()
    assert stats["entered"] == 1
    assert flowctl.participants("mailer", "--status", "waiting")[0]["email"] == "ann@example.com"
    assert flowctl.participant("vip-watch", "cai@example.com")["status"] == "waiting"

    # Ann's delay falls due during the pause: nothing of the flow runs
    stats = flowctl.once(T0 + days(3))
    ann = flowctl.participant("mailer", "ann@example.com")
    assert (ann["status"], ann["current_step"]) == ("waiting", "pause-2d")
    assert [p["email"] for p in flowctl.participants("mailer")] == ["ann@example.com"]
    assert len(flowctl.messages("--flow", "mailer")) == 1
    assert flowctl.participant("vip-watch", "cai@example.com")["status"] == "waiting"

    # the resume runs what fell due and enters the contact whose trigger came meanwhile
    flowctl.at(T0 + days(4)).ok("resume", "mailer")
    stats = flowctl.once()
    assert stats["entered"] == 1
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "completed"
    bo = flowctl.participant("mailer", "bo@example.com")
    assert (bo["status"], bo["current_step"], bo["last_mailing"]) == (
        "waiting",
        "pause-2d",
        "hello",
    )
    # as of the resume: nothing of the flow ran during the pause
    ann_steps = [(h["step"], h["at"]) for h in flowctl.history(contact="ann@example.com")]
    assert ann_steps[:2] == [
        ("second-mail", iso_utc(T0 + days(4))),
        ("pause-2d", iso_utc(T0 + days(4))),
    ]
    sent = sorted((m["contact"], m["step"]) for m in flowctl.messages("--flow", "mailer"))
    assert sent == [
        ("ann@example.com", "first-mail"),
        ("ann@example.com", "second-mail"),
        ("bo@example.com", "first-mail"),
    ]
    assert {m["status"] for m in flowctl.messages()} == {"sent"}


def test_event_during_pause_wakes_the_participant_after_resume(flowctl: Flowctl) -> None:
    setup(flowctl, WATCH, "vip-watch")
    flowctl.send("form_submitted", "ann@example.com", form="vip")
    flowctl.once()
    flowctl.at(T0 + days(1)).ok("pause", "vip-watch")
    flowctl.send("tag_added", "ann@example.com", tag="vip")
    flowctl.once()
    assert flowctl.participant("vip-watch", "ann@example.com")["status"] == "waiting"
    flowctl.at(T0 + days(2)).ok("resume", "vip-watch")
    flowctl.once()
    assert flowctl.participant("vip-watch", "ann@example.com")["status"] == "completed"
    assert flowctl.path("ann@example.com") == ["wait-vip", "tag-watched"]
    outcomes = {h["step"]: h["outcome"] for h in flowctl.history(contact="ann@example.com")}
    assert outcomes["wait-vip"] == "met"


def test_a_pause_no_daemon_ran_in_holds_what_fell_in_it_until_the_resume(
    flowctl: Flowctl,
) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")  # enters at T0
    flowctl.at(T0 + HOUR).ok("pause", "mailer")
    flowctl.at(T0 + days(1)).send("form_submitted", "bo@example.com", form="news")
    flowctl.at(T0 + days(3)).ok("resume", "mailer")
    # The first daemon run after all that: as if one had run all along.
    flowctl.once(T0 + days(6))
    bo = flowctl.participant("mailer", "bo@example.com")
    # Bo's trigger came during the pause: he enters as of the resume
    assert bo["registered"] == iso_utc(T0 + days(3))
    assert min(h["at"] for h in flowctl.history(contact="bo@example.com")) == iso_utc(T0 + days(3))
    # Ann's 2-day delay ended during the pause: it ends as of the resume
    ann_steps = [(h["step"], h["at"]) for h in flowctl.history(contact="ann@example.com")]
    assert ("second-mail", iso_utc(T0 + days(3))) in ann_steps
    assert not [at for _, at in ann_steps if iso_utc(T0 + HOUR) < at < iso_utc(T0 + days(3))]
    assert {p["status"] for p in flowctl.participants("mailer")} == {"completed"}


def test_a_trigger_kept_during_a_pause_enters_as_of_the_resume(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.at(T0 + HOUR).ok("pause", "mailer")
    flowctl.at(T0 + days(1)).send("form_submitted", "bo@example.com", form="news")
    assert flowctl.once()["entered"] == 0  # kept for the resume
    flowctl.at(T0 + days(3)).ok("resume", "mailer")
    flowctl.once(T0 + days(6))  # the first run after the resume comes late
    bo = flowctl.participant("mailer", "bo@example.com")
    assert (bo["registered"], bo["status"]) == (iso_utc(T0 + days(3)), "completed")


EXITS = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: exits}
spec:
  triggers: [{type: form_submitted, form: news}]
  exit_when: {event: sale_canceled}
  steps:
    - {id: a-wait, type: delay, duration: 1d}
    - {id: b-tag, type: add_tag, tag: nudged}
    - {id: c-wait, type: wait_until, condition: {tag: never}, timeout: 5d}
"""


def test_leaving_a_step_counts_for_it_also_in_a_late_catch_up(flowctl: Flowctl) -> None:
    setup(flowctl, EXITS, "exits")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.at(T0 + days(2)).send("sale_canceled", "ann@example.com")
    flowctl.once(T0 + days(3))  # one run for all of it: enter, wait, tag, wait, exit
    assert flowctl.participant("exits", "ann@example.com")["status"] == "exited"
    steps = flowctl.json("report", "exits")["steps"]
    c_wait = steps["c-wait"]
    assert (c_wait["reached"], c_wait["outcomes"]) == (1, {"met": 0, "timeout": 0, "exited": 1})
    assert steps["a-wait"]["outcomes"] == {"waited": 1}


def test_a_canceled_wait_stays_reached_in_the_report(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    before = flowctl.json("report", "mailer")["steps"]["pause-2d"]
    assert (before["reached"], before["pending"]) == (1, 1)
    flowctl.at(T0 + HOUR).ok("deactivate", "mailer", "--cancel-scheduled", "--yes")
    after = flowctl.json("report", "mailer")["steps"]["pause-2d"]
    assert (after["reached"], after["outcomes"], after["pending"]) == (1, {"canceled": 1}, 0)


def test_deactivate_lets_participants_finish_and_enters_nobody(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.at(T0 + days(1)).ok("deactivate", "mailer", "--yes")
    flowctl.send("form_submitted", "bo@example.com", form="news")
    assert flowctl.once()["entered"] == 0

    flowctl.once(T0 + days(2))
    ann = flowctl.participant("mailer", "ann@example.com")
    assert (ann["status"], ann["last_mailing"], ann["last_mailing_status"]) == (
        "completed",
        "follow-up",
        "sent",
    )
    assert [p["email"] for p in flowctl.participants("mailer")] == ["ann@example.com"]


def test_deactivate_cancel_scheduled_cancels_participants_and_messages(
    flowctl: Flowctl, start_smtp: Callable[..., SmtpServer]
) -> None:
    # Bo's mailbox is full: his first e-mail stays queued for another try
    server = start_smtp(mailbox=Mailbox(answers={"bo@example.com": "452 4.2.2 mailbox full"}))
    flowctl.configure(smtp_config(server.port))
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.send("form_submitted", "bo@example.com", form="news")
    flowctl.once()
    assert {p["status"] for p in flowctl.participants("mailer")} == {"waiting"}
    assert {m["contact"]: m["status"] for m in flowctl.messages()} == {
        "ann@example.com": "sent",
        "bo@example.com": "queued",
    }

    flowctl.at(T0 + HOUR)
    done = flowctl.json("deactivate", "mailer", "--cancel-scheduled", "--yes")
    assert (done["state"], done["canceled"], done["messages_canceled"]) == ("deactivated", 2, 1)
    assert {p["status"] for p in flowctl.participants("mailer")} == {"canceled"}
    messages = {m["contact"]: m["status"] for m in flowctl.messages()}
    assert messages == {"ann@example.com": "sent", "bo@example.com": "canceled"}

    # nothing of theirs runs any more, and the canceled message never leaves
    server.mailbox.answers.clear()
    flowctl.once(T0 + days(3))
    assert {p["status"] for p in flowctl.participants("mailer")} == {"canceled"}
    assert {m["contact"]: m["status"] for m in flowctl.messages()} == messages
    assert not any(h["step"] == "second-mail" for h in flowctl.history(flow="mailer"))
    assert [r.rcpt_tos for r in server.mailbox.received] == [["ann@example.com"]]


def test_apply_migrates_a_waiting_participant_whose_step_is_kept(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.at(T0 + days(1))
    (change,) = [
        c for c in flowctl.apply(flowctl.write("v2.yaml", MAILER_V2_KEPT)) if c["name"] == "mailer"
    ]
    assert (change["result"], change["version"]) == ("configured", 2)
    assert change["participants"]["migrate"] == 1
    ann = flowctl.participant("mailer", "ann@example.com")
    assert (ann["status"], ann["current_step"]) == ("waiting", "pause-2d")

    flowctl.once(T0 + days(2))
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "completed"
    assert flowctl.path("ann@example.com") == [
        "first-mail",
        "pause-2d",
        "mark-migrated",
        "second-mail",
    ]
    versions = {h["step"]: h["version"] for h in flowctl.history(contact="ann@example.com")}
    assert versions == {"first-mail": 1, "pause-2d": 2, "mark-migrated": 2, "second-mail": 2}
    assert "migrated" in flowctl.contact("ann@example.com")["tags"]


def test_apply_exits_a_participant_whose_step_was_removed(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.at(T0 + days(1))
    text = flowctl.ok("apply", flowctl.write("v2.yaml", MAILER_V2_REMOVED)).out
    assert "1 exit" in text
    ann = flowctl.participant("mailer", "ann@example.com")
    assert (ann["status"], ann["reason"]) == ("exited", "step_removed")

    flowctl.once(T0 + days(2))
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "exited"
    assert [m["step"] for m in flowctl.messages()] == ["first-mail"]
    # a new participant follows the new version
    flowctl.send("form_submitted", "bo@example.com", form="news")
    flowctl.once()
    flowctl.once(T0 + days(4))
    assert flowctl.path("bo@example.com") == ["first-mail", "wait-2d", "second-mail"]


def test_on_update_keep_finishes_on_the_entered_version(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER_KEEP, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.at(T0 + days(1))
    new = MAILER_KEEP.replace("id: pause-2d", "id: wait-2d")
    (change,) = [c for c in flowctl.apply(flowctl.write("v2.yaml", new)) if c["name"] == "mailer"]
    assert change["participants"]["keep"] == 1
    flowctl.once(T0 + days(2))
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "completed"
    assert flowctl.path("ann@example.com") == ["first-mail", "pause-2d", "second-mail"]
    assert {h["version"] for h in flowctl.history(contact="ann@example.com")} == {1}


def test_deactivating_a_paused_flow_gives_its_participants_the_kept_events(
    flowctl: Flowctl,
) -> None:
    setup(flowctl, WATCH, "vip-watch")
    flowctl.send("form_submitted", "ann@example.com", form="vip")
    flowctl.once()
    flowctl.at(T0 + days(1)).ok("pause", "vip-watch")
    flowctl.send("tag_added", "ann@example.com", tag="vip")  # meets wait-vip, kept
    flowctl.once()
    flowctl.ok("deactivate", "vip-watch", "--yes")  # those inside go on to the end
    flowctl.once(T0 + days(1) + HOUR)
    ann = flowctl.participant("vip-watch", "ann@example.com")
    assert ann["status"] == "completed"
    (met,) = [h for h in flowctl.history(contact="ann@example.com") if h["step"] == "wait-vip"]
    assert met["outcome"] == "met"
    assert met["at"].startswith("2026-03-03T")  # not at the 3-day timeout


def test_pause_holds_the_flows_queued_messages_too(
    flowctl: Flowctl, start_smtp: Callable[..., SmtpServer]
) -> None:
    server = start_smtp(mailbox=Mailbox(answers={"ann@example.com": "451 4.3.0 try later"}))
    flowctl.configure(smtp_config(server.port))
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    assert flowctl.messages()[0]["status"] == "queued"  # to be tried again in 30 s
    flowctl.at(T0 + HOUR).ok("pause", "mailer")
    server.mailbox.answers.clear()
    flowctl.once(T0 + 2 * HOUR)
    assert server.mailbox.received == []
    assert flowctl.messages()[0]["status"] == "queued"
    flowctl.at(T0 + 3 * HOUR).ok("resume", "mailer")
    flowctl.once()
    assert flowctl.messages()[0]["status"] == "sent"
    assert len(server.mailbox.received) == 1
