"""``flowctl daemon --once`` on a virtual clock: entries, steps, success, delivery, purge.

Each test applies flows to a store file in ``tmp_path``, sends events with
``flowctl event send``, runs ``flowctl daemon --once`` at successive
instants (``FLOWCTL_NOW``) and checks what the CLI's JSON views, the Store
API and a real SMTP server on loopback say happened.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage

from flowctl.channels import message_id
from flowctl.timeutil import parse_instant
from tests.channels.conftest import Mailbox, SmtpServer
from tests.conftest import FLOWS, REPO
from tests.daemon.conftest import T0, Flowctl, days, iso, smtp_config

PARTICIPANT_KEYS = {
    "contact",
    "email",
    "company",
    "registered",
    "status",
    "current_step",
    "reason",
    "last_mailing",
    "last_mailing_date",
    "last_mailing_status",
    "succeeded",
}
MESSAGE_KEYS = {
    "id",
    "flow",
    "step",
    "contact",
    "channel",
    "content",
    "status",
    "message_id",
    "queued_at",
    "sent_at",
}

MAILER = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: mailer}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: news}]
  steps:
    - id: first-mail
      type: send_email
      mailing: hello
    - id: pause-2d
      type: delay
      duration: 2d
    - id: second-mail
      type: send_email
      mailing: follow-up
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: hello}
spec:
  from: "Acme <news@acme.example>"
  subject: "Hello {{ contact.first_name | default('friend') }}"
  text: "Hi {{ contact.first_name | default('friend') }}, welcome."
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: follow-up}
spec:
  from: "Acme <news@acme.example>"
  subject: "Two days later"
  text: "Still there?"
"""

WATCH = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: vip-watch}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: vip}]
  steps:
    - id: wait-vip
      type: wait_until
      condition: {tag: vip}
      timeout: 3d
      on_timeout:
        - id: tag-cold
          type: add_tag
          tag: cold
    - id: tag-watched
      type: add_tag
      tag: watched
"""

TRIAL = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: trial}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: trial}]
  steps:
    - id: trial-week
      type: delay
      duration: 7d
    - id: trial-over
      type: add_tag
      tag: trial-over
  success:
    when: {event: sale_created, offer: pro}
    on_success: stop
    transfer_to: welcome
---
apiVersion: flowctl/v1
kind: Flow
metadata: {name: welcome}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: manual}]
  steps:
    - id: greet
      type: add_tag
      tag: welcomed
---
apiVersion: flowctl/v1
kind: Flow
metadata: {name: starter}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: start}]
  steps:
    - id: hand-over
      type: start_flow
      flow: welcome
    - id: started
      type: add_tag
      tag: started
"""

ONCE = """\
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: only-once}
spec:
  from: "Acme <news@acme.example>"
  subject: "Once in a lifetime"
  text: "You get this once."
  once_per_contact: true
---
apiVersion: flowctl/v1
kind: Flow
metadata: {name: once-a}
spec:
  triggers: [{type: form_submitted, form: a}]
  steps:
    - {id: mail-a, type: send_email, mailing: only-once}
---
apiVersion: flowctl/v1
kind: Flow
metadata: {name: once-b}
spec:
  triggers: [{type: form_submitted, form: b}]
  steps:
    - {id: mail-b, type: send_email, mailing: only-once}
"""

SHORT_MEMORY = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: short-memory}
spec:
  triggers: [{type: form_submitted, form: short}]
  history_retention: 2d
  steps:
    - {id: mark, type: add_tag, tag: marked}
    - {id: rest, type: delay, duration: 1d}
    - {id: mark-again, type: add_tag, tag: remarked}
"""


def header(message: EmailMessage, name: str) -> str:
    """A header's value, unfolded (a long Message-ID is folded onto its own line)."""
    value = message[name]
    assert value is not None, f"no {name} header"
    return str(value).strip()


def setup(flowctl: Flowctl, text: str, *active: str) -> None:
    """Apply ``text`` (at "now") and activate ``active``."""
    flowctl.apply(flowctl.write("flows.yaml", text))
    flowctl.activate(*active)


# -- the systeme.io example, end to end ------------------------------------------


def test_offer_upsell_moves_buyers_to_campaign_2(flowctl: Flowctl) -> None:
    flowctl.apply(FLOWS)
    flowctl.activate("offer-upsell")
    for who in ("ann@example.com", "bo@example.com"):
        flowctl.send("funnel_form_subscribed", who, form="optin-page")

    stats = flowctl.once()
    assert stats["entered"] == 2
    for who in ("ann@example.com", "bo@example.com"):
        row = flowctl.participant("offer-upsell", who)
        assert (row["status"], row["current_step"]) == ("waiting", "give-them-time")
        assert flowctl.contact(who)["campaigns"] == ["campaign-1"]

    # Ann buys offer 1 on Wednesday; the shop's rule tags her customer-1
    flowctl.at(T0 + days(2)).send("tag_added", "ann@example.com", tag="customer-1")
    flowctl.once()
    assert flowctl.participant("offer-upsell", "ann@example.com")["status"] == "waiting"

    flowctl.once(T0 + days(5))
    ann = flowctl.participant("offer-upsell", "ann@example.com")
    bo = flowctl.participant("offer-upsell", "bo@example.com")
    assert (ann["status"], ann["current_step"]) == ("completed", "sub-c2")
    assert (bo["status"], bo["current_step"]) == ("completed", "bought-offer-1")
    assert flowctl.contact("ann@example.com")["campaigns"] == ["campaign-2"]
    assert flowctl.contact("bo@example.com")["campaigns"] == ["campaign-1"]
    assert flowctl.path("ann@example.com") == [
        "sub-c1",
        "give-them-time",
        "bought-offer-1",
        "unsub-c1",
        "sub-c2",
    ]
    assert flowctl.path("bo@example.com") == ["sub-c1", "give-them-time", "bought-offer-1"]


def test_delay_not_due_yet_does_nothing(flowctl: Flowctl) -> None:
    flowctl.apply(FLOWS)
    flowctl.activate("offer-upsell")
    flowctl.send("funnel_form_subscribed", "ann@example.com", form="optin-page")
    flowctl.once()
    stats = flowctl.once(T0 + days(5) - days(1) / 24)  # an hour early
    assert stats["steps"] == 0
    assert flowctl.participant("offer-upsell", "ann@example.com")["status"] == "waiting"


def test_event_before_activation_does_not_enter(flowctl: Flowctl) -> None:
    flowctl.apply(FLOWS)
    # sent while the flow is a draft, handled once it is active
    flowctl.send("funnel_form_subscribed", "early@example.com", form="optin-page")
    flowctl.at(T0 + days(1) / 24).activate("offer-upsell")
    # and one recorded now that occurred before the activation
    flowctl.send("funnel_form_subscribed", "late@example.com", at=T0, form="optin-page")
    stats = flowctl.once()
    assert stats["entered"] == 0
    assert flowctl.participants("offer-upsell") == []
    # the same trigger after the activation enters
    flowctl.send("funnel_form_subscribed", "late@example.com", form="optin-page")
    assert flowctl.once()["entered"] == 1
    assert [p["email"] for p in flowctl.participants("offer-upsell")] == ["late@example.com"]


def test_event_before_activation_reason_is_before_activation(flowctl: Flowctl) -> None:
    # The daemon keeps no refusal reasons (and there is no `flowctl why` yet): ask the
    # engine's entry check about what the store holds, the event and the activation.
    from flowctl.engine import Event, compile_flow, consider_entry
    from flowctl.store import FLOW

    flowctl.apply(FLOWS)
    flowctl.at(T0 + days(1)).activate("offer-upsell")
    flowctl.send("funnel_form_subscribed", "early@example.com", at=T0, form="optin-page")
    flowctl.once()
    assert flowctl.participants("offer-upsell") == []
    with flowctl.store() as store:
        flow = store.flow("offer-upsell")
        doc = store.document(FLOW, "offer-upsell")
        (contact,) = store.find_contacts(emails=["early@example.com"])
        (stored,) = [e for e in store.events_for(contact.cid) if e["type"] != "contact_created"]
    assert flow is not None and doc is not None
    event = Event(stored["type"], stored["at"], stored["data"])
    decision = consider_entry(
        compile_flow(doc.document, doc.version),
        event,
        contact.data,
        T0 + days(1),
        activated_at=flow.activated_at,
    )
    assert decision.reason == "before_activation"


def test_active_participant_is_not_entered_twice(flowctl: Flowctl) -> None:
    flowctl.apply(FLOWS)
    flowctl.activate("offer-upsell")
    flowctl.send("funnel_form_subscribed", "ann@example.com", form="optin-page")
    flowctl.once()
    flowctl.at(T0 + days(1)).send("funnel_form_subscribed", "ann@example.com", form="optin-page")
    assert flowctl.once()["entered"] == 0
    (row,) = flowctl.participants("offer-upsell")
    assert (row["status"], row["current_step"]) == ("waiting", "give-them-time")


def test_reentry_never_refuses_a_second_participation(flowctl: Flowctl) -> None:
    flowctl.apply(FLOWS)
    flowctl.activate("offer-upsell")
    flowctl.send("funnel_form_subscribed", "ann@example.com", form="optin-page")
    flowctl.once()
    flowctl.once(T0 + days(5))
    assert flowctl.participant("offer-upsell", "ann@example.com")["status"] == "completed"
    flowctl.at(T0 + days(6)).send("funnel_form_subscribed", "ann@example.com", form="optin-page")
    assert flowctl.once()["entered"] == 0
    assert len(flowctl.participants("offer-upsell")) == 1


def test_tag_added_event_meets_a_wait_until(flowctl: Flowctl) -> None:
    setup(flowctl, WATCH, "vip-watch")
    flowctl.send("form_submitted", "ann@example.com", form="vip")
    flowctl.send("form_submitted", "bo@example.com", form="vip")
    flowctl.once()
    assert {p["status"] for p in flowctl.participants("vip-watch")} == {"waiting"}

    flowctl.at(T0 + days(1)).send("tag_added", "ann@example.com", tag="vip")
    flowctl.once()
    ann = flowctl.participant("vip-watch", "ann@example.com")
    assert ann["status"] == "completed"
    outcomes = [(h["step"], h["outcome"]) for h in flowctl.history(contact="ann@example.com")]
    assert ("wait-vip", "met") in outcomes
    assert flowctl.contact("ann@example.com")["tags"] == ["vip", "watched"]
    assert flowctl.participant("vip-watch", "bo@example.com")["status"] == "waiting"

    flowctl.once(T0 + days(3))
    assert flowctl.participant("vip-watch", "bo@example.com")["status"] == "completed"
    assert flowctl.path("bo@example.com") == ["wait-vip", "tag-cold", "tag-watched"]
    assert sorted(flowctl.contact("bo@example.com")["tags"]) == ["cold", "watched"]


TAGGER = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: tagger}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: promote}]
  steps:
    - {id: tag-vip, type: add_tag, tag: vip}
"""


def pending_types(flowctl: Flowctl) -> list[str]:
    """Types of the stored events no pass has handled yet."""
    with sqlite3.connect(flowctl.db) as conn:
        rows = conn.execute("SELECT type FROM events WHERE processed_at IS NULL ORDER BY seq")
        return [t for (t,) in rows]


def test_events_no_flow_listens_to_are_stored_handled(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    stats = flowctl.once()
    # contact_created and the form; email_sent is no flow's trigger, nor can it wake one
    assert stats["events"] == 2
    with flowctl.store() as store:
        (cid,) = [c.cid for c in store.contacts()]
        kinds = [e["type"] for e in store.events_for(cid)]
    assert kinds == ["contact_created", "form_submitted", "email_sent"]
    assert pending_types(flowctl) == []


def test_an_emitted_event_wakes_a_wait_until_of_another_flow(flowctl: Flowctl) -> None:
    setup(flowctl, WATCH + "---\n" + TAGGER, "vip-watch", "tagger")
    flowctl.send("form_submitted", "ann@example.com", form="vip")
    flowctl.once()
    assert flowctl.participant("vip-watch", "ann@example.com")["status"] == "waiting"

    flowctl.at(T0 + days(1)).send("form_submitted", "ann@example.com", form="promote")
    stats = flowctl.once()
    # the form, then the tag_added events of both flows: any event may meet a wait_until
    assert stats["events"] == 3
    ann = flowctl.participant("vip-watch", "ann@example.com")
    assert ann["status"] == "completed"
    assert flowctl.path("ann@example.com", "vip-watch") == ["wait-vip", "tag-watched"]
    assert pending_types(flowctl) == []


def steps_at(flowctl: Flowctl, contact: str) -> list[tuple[str, datetime]]:
    """``(step, when)`` of the contact's whole history, oldest first."""
    rows = reversed(flowctl.history(contact=contact, limit="100000"))
    return [(r["step"], parse_instant(r["at"])) for r in rows if r["step"] is not None]


def test_a_later_once_runs_each_wait_to_its_end_as_a_running_daemon_would(
    flowctl: Flowctl,
) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once(T0 + days(9))  # the first run since the form came in
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "completed"
    assert steps_at(flowctl, "ann@example.com") == [
        ("first-mail", T0),
        ("pause-2d", T0 + days(2)),
        ("second-mail", T0 + days(2)),
    ]
    assert {m["status"] for m in flowctl.messages()} == {"sent"}


def test_a_mail_caught_up_outside_the_send_window_waits_for_it(flowctl: Flowctl) -> None:
    windowed = MAILER.replace(
        "  triggers: [{type: form_submitted, form: news}]\n",
        "  triggers: [{type: form_submitted, form: news}]\n"
        '  send_window: {from: "09:00", to: "17:00"}\n',
    )
    setup(flowctl, windowed, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()  # Monday 09:00: first-mail
    night = T0 + days(3) - days(1) / 2  # Wednesday 21:00, after a downtime
    flowctl.once(night)
    assert steps_at(flowctl, "ann@example.com")[-1] == ("second-mail", T0 + days(2))
    second = next(m for m in flowctl.messages() if m["step"] == "second-mail")
    assert second["status"] == "queued"  # not sent at night
    flowctl.once(T0 + days(3))  # Thursday 09:00: the window is open
    second = next(m for m in flowctl.messages() if m["step"] == "second-mail")
    assert second["status"] == "sent"


HOURLY = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: hourly}
spec:
  triggers: [{type: form_submitted, form: hourly}]
  steps:
    - {id: tick, type: add_tag, tag: ticked}
    - {id: wait-1h, type: delay, duration: 1h}
    - {id: again, type: goto, step: tick}
"""


def test_a_long_catch_up_of_a_loop_goes_on_pass_after_pass(flowctl: Flowctl) -> None:
    setup(flowctl, HOURLY, "hourly")
    flowctl.send("form_submitted", "ann@example.com", form="hourly")
    flowctl.once()
    flowctl.once(T0 + days(10) + days(1) / 48)  # 240 hourly waits later, half an hour on
    ann = flowctl.participant("hourly", "ann@example.com")
    assert (ann["status"], ann["current_step"]) == ("waiting", "wait-1h")
    waits = [s for s, _ in steps_at(flowctl, "ann@example.com") if s == "wait-1h"]
    assert len(waits) == 240


def test_a_later_once_meets_a_wait_until_when_its_event_came(flowctl: Flowctl) -> None:
    setup(flowctl, WATCH, "vip-watch")
    flowctl.send("form_submitted", "ann@example.com", form="vip")
    flowctl.once()
    flowctl.send("tag_added", "ann@example.com", at=T0 + days(1), tag="vip")
    flowctl.once(T0 + days(5))  # after the 3-day timeout: met all the same, on day 1
    assert steps_at(flowctl, "ann@example.com") == [
        ("wait-vip", T0 + days(1)),
        ("tag-watched", T0 + days(1)),
    ]


SALE_WATCH = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: sale-watch}
spec:
  triggers: [{type: form_submitted, form: vip}]
  steps:
    - {id: pause, type: delay, duration: 1h}
    - id: wait-sale
      type: wait_until
      condition: {event: sale_created, within: 1d}
      timeout: 2d
      on_timeout: [{id: tag-lost, type: add_tag, tag: lost}]
    - {id: tag-buyer, type: add_tag, tag: buyer}
"""


def test_a_later_once_meets_a_wait_until_with_an_event_that_came_before_it_began(
    flowctl: Flowctl,
) -> None:
    # The sale comes during the delay, which no event can end: the run that catches
    # up later meets the wait at the sale's instant, not when the timeout would end it.
    setup(flowctl, SALE_WATCH, "sale-watch")
    flowctl.send("form_submitted", "ann@example.com", form="vip")
    flowctl.once()
    flowctl.at(T0 + days(1) / 8).send("sale_created", "ann@example.com", offer="pro")
    flowctl.once(T0 + days(5))
    assert steps_at(flowctl, "ann@example.com") == [
        ("pause", T0 + days(1) / 24),
        ("wait-sale", T0 + days(1) / 8),
        ("tag-buyer", T0 + days(1) / 8),
    ]


def test_success_while_waiting_succeeds_and_transfers(flowctl: Flowctl) -> None:
    setup(flowctl, TRIAL, "trial", "welcome")
    flowctl.send("form_submitted", "ann@example.com", form="trial")
    flowctl.once()
    flowctl.at(T0 + days(2)).send("sale_created", "ann@example.com", offer="pro")
    flowctl.once()
    trial = flowctl.participant("trial", "ann@example.com")
    assert (trial["status"], trial["succeeded"]) == ("succeeded", True)
    welcome = flowctl.participant("welcome", "ann@example.com")
    assert welcome["status"] == "completed"
    assert "welcomed" in flowctl.contact("ann@example.com")["tags"]
    # the delay never ran out: nothing more happens when it would have
    flowctl.once(T0 + days(8))
    assert "trial-over" not in flowctl.contact("ann@example.com")["tags"]
    with flowctl.store() as store:
        assert store.step_counts("trial").get(("trial-over", "done")) is None


def test_other_offer_is_not_success(flowctl: Flowctl) -> None:
    setup(flowctl, TRIAL, "trial", "welcome")
    flowctl.send("form_submitted", "ann@example.com", form="trial")
    flowctl.once()
    flowctl.at(T0 + days(2)).send("sale_created", "ann@example.com", offer="basic")
    flowctl.once()
    assert flowctl.participant("trial", "ann@example.com")["status"] == "waiting"
    flowctl.once(T0 + days(7))
    trial = flowctl.participant("trial", "ann@example.com")
    assert (trial["status"], trial["succeeded"]) == ("completed", False)
    assert flowctl.participants("welcome") == []


def test_transfer_to_an_inactive_flow_enters_nobody(flowctl: Flowctl) -> None:
    setup(flowctl, TRIAL, "trial")  # welcome stays a draft
    flowctl.send("form_submitted", "ann@example.com", form="trial")
    flowctl.once()
    flowctl.at(T0 + days(2)).send("sale_created", "ann@example.com", offer="pro")
    flowctl.once()
    assert flowctl.participant("trial", "ann@example.com")["status"] == "succeeded"
    assert flowctl.participants("welcome") == []


def test_customer_onboarding_runs_its_templated_update(flowctl: Flowctl) -> None:
    # {{ participant.entered_at }} in an update_contact template (once a daemon crash)
    flowctl.apply(FLOWS)
    flowctl.activate("customer-onboarding")
    flowctl.send("tag_added", "kari@example.com", tag="customer")
    flowctl.once()
    row = flowctl.participant("customer-onboarding", "kari@example.com")
    assert (row["status"], row["current_step"]) == ("waiting", "wait-3d")
    contact = flowctl.contact("kari@example.com")
    assert contact["category"] == "customer"
    assert str(contact["customer_since"]).startswith("2026-03-02")


BAD_TEMPLATE = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: nicknames}
spec:
  triggers: [{type: form_submitted, form: nick}]
  steps:
    - id: set-nick
      type: update_contact
      set: {nickname: "{{ contact.profile.nick }}"}
    - {id: nicked, type: add_tag, tag: nicked}
"""


def test_a_template_error_does_not_stop_the_daemon(flowctl: Flowctl) -> None:
    # contact.profile is missing for Bo: his template cannot render. His field stays as
    # it was, the step says why; the daemon must not crash on it (nor block Ann).
    setup(flowctl, BAD_TEMPLATE + "---\n" + WATCH, "nicknames", "vip-watch")
    flowctl.import_contacts([{"email": "ann@example.com", "profile": {"nick": "Annie"}}])
    flowctl.send("form_submitted", "bo@example.com", form="nick")
    flowctl.send("form_submitted", "ann@example.com", form="nick")
    flowctl.send("form_submitted", "ann@example.com", form="vip")
    run = flowctl("daemon", "--once", "-o", "json")
    assert run.code == 0, run.err
    assert flowctl.contact("ann@example.com")["nickname"] == "Annie"
    assert flowctl.participant("vip-watch", "ann@example.com")["status"] == "waiting"
    assert flowctl.participant("nicknames", "bo@example.com")["status"] == "completed"
    bo = flowctl.contact("bo@example.com")
    assert "nicked" in bo["tags"] and "nickname" not in bo
    [step] = [h for h in flowctl.history(contact="bo@example.com") if h["step"] == "set-nick"]
    assert step["detail"].startswith("template error in nickname: ")


ONCE_MAILER = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: twice}
spec:
  triggers: [{type: form_submitted, form: twice}]
  steps:
    - {id: pause-1, type: delay, duration: 1h}
    - {id: first, type: send_email, mailing: city}
    - {id: pause-2, type: delay, duration: 1h}
    - {id: second, type: send_email, mailing: city}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: city}
spec:
  from: "Acme <news@acme.example>"
  subject: "News"
  text: "City {{ contact.address.city }}"
  once_per_contact: true
"""


def test_a_send_that_failed_in_a_catch_up_counts_for_no_cap(flowctl: Flowctl) -> None:
    # Ann has no address: each e-mail fails to render. The first, failed, does not make
    # the second one "already sent" (once_per_contact), also when one run catches up both.
    setup(flowctl, ONCE_MAILER, "twice")
    flowctl.send("form_submitted", "ann@example.com", form="twice")
    flowctl.once()
    flowctl.once(T0 + days(1) / 8)
    outcomes = {
        h["step"]: h["outcome"]
        for h in flowctl.history(contact="ann@example.com")
        if h["step"] in ("first", "second")
    }
    assert outcomes == {"first": "failed", "second": "failed"}


TEMPLATED = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: templated}
spec:
  triggers: [{type: form_submitted, form: hello}]
  steps:
    - {id: greet, type: send_email, mailing: greeting}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: greeting}
spec:
  from: "Acme <news@acme.example>"
  subject: "Hello {{ contact.first_name }} at {{ company.name }}"
  text: "Your plan: {{ contact.plan.name }}"
"""


SMS_FLOW = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: texts}
spec:
  triggers: [{type: webinar_registered}]
  steps:
    - {id: remind, type: send_sms, sms: reminder}
---
apiVersion: flowctl/v1
kind: Sms
metadata: {name: reminder}
spec:
  text: "{{ contact.first_name }}: {{ trigger.webinar }} starts in an hour"
"""


def test_sms_goes_to_the_outbox_with_the_contact_and_the_number(flowctl: Flowctl) -> None:
    flowctl.configure('[sms]\ntransport = "outbox"\n')
    setup(flowctl, SMS_FLOW, "texts")
    flowctl.import_contacts(
        [
            {"email": "ann@example.com", "first_name": "Ann", "phone": "+4712345678"},
            {"email": "bo@example.com", "first_name": "Bo"},  # no phone: suppressed
        ]
    )
    for who in ("ann@example.com", "bo@example.com"):
        flowctl.send("webinar_registered", who, webinar="Flows as code")
    flowctl.once()
    [row] = flowctl.messages()
    assert (row["contact"], row["to"], row["channel"], row["status"]) == (
        "ann@example.com",
        "+4712345678",
        "sms",
        "sent",
    )
    with flowctl.store() as store:
        [message] = store.messages()
    assert message.payload == {"text": "Ann: Flows as code starts in an hour"}
    bo = {h["step"]: (h["outcome"], h["detail"]) for h in flowctl.history(contact="bo@example.com")}
    assert bo["remind"] == ("suppressed", "no_phone")


def test_a_message_that_cannot_render_fails_instead_of_going_out(flowctl: Flowctl) -> None:
    setup(flowctl, TEMPLATED, "templated")
    flowctl.import_contacts(
        [
            {
                "email": "ann@example.com",
                "first_name": "Ann",
                "company": "Acme",
                "plan": {"name": "Pro"},
            },
            {"email": "bo@example.com", "first_name": "Bo"},  # no plan: text cannot render
        ]
    )
    for who in ("ann@example.com", "bo@example.com"):
        flowctl.send("form_submitted", who, form="hello")
    flowctl.once()
    with flowctl.store() as store:
        rows = {m.to: m for m in store.messages()}
    ann, bo = rows["ann@example.com"], rows["bo@example.com"]
    assert (ann.status, ann.payload["subject"]) == ("sent", "Hello Ann at Acme")
    assert ann.payload["text"] == "Your plan: Pro"
    assert bo.status == "failed" and "text" not in bo.payload
    assert "mailing greeting cannot be rendered for this contact" in bo.payload["error"]
    [failed] = flowctl.messages("--status", "failed")
    assert (failed["contact"], failed["error"]) == ("bo@example.com", bo.payload["error"])
    # the report counts what was delivered
    report = flowctl.json("report", "templated")
    assert report["mailings"]["greeting"]["sent"] == 1
    assert report["steps"]["greet"]["outcomes"] == {"sent": 1, "failed": 1}
    [greet] = flowctl.history(contact="bo@example.com")[:1]
    assert (greet["step"], greet["outcome"], greet["detail"]) == (
        "greet",
        "failed",
        bo.payload["error"],
    )
    with flowctl.store() as store:
        bo_events = [e["type"] for e in store.events_for(bo.cid)]
    assert "email_sent" not in bo_events


def test_offer_upsell_success_enters_customer_onboarding_once(flowctl: Flowctl) -> None:
    # the sale both triggers customer-onboarding and is offer-upsell's transfer_to
    flowctl.apply(FLOWS)
    flowctl.activate("offer-upsell", "customer-onboarding")
    flowctl.send("funnel_form_subscribed", "eva@example.com", form="optin-page")
    flowctl.once()
    flowctl.at(T0 + days(3)).send("sale_created", "eva@example.com", offer="offer-2")
    flowctl.once()
    assert flowctl.participant("offer-upsell", "eva@example.com")["status"] == "succeeded"
    (onboarding,) = flowctl.participants("customer-onboarding")
    assert (onboarding["email"], onboarding["status"]) == ("eva@example.com", "waiting")
    assert onboarding["current_step"] == "wait-3d"


def test_start_flow_enters_the_other_flow(flowctl: Flowctl) -> None:
    setup(flowctl, TRIAL, "starter", "welcome")
    flowctl.send("form_submitted", "ann@example.com", form="start")
    flowctl.once()
    assert flowctl.participant("starter", "ann@example.com")["status"] == "completed"
    assert flowctl.participant("welcome", "ann@example.com")["status"] == "completed"
    assert sorted(flowctl.contact("ann@example.com")["tags"]) == ["started", "welcomed"]


# -- messages ------------------------------------------------------------------------


CRM = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: crm}
spec:
  triggers: [{type: form_submitted, form: demo}]
  steps:
    - id: call
      type: create_activity
      title: "Call {{ contact.first_name }}"
      assignee: bob
      due: 2d
    - {id: deal, type: create_sale, title: Demo deal, amount: 500, stage: lead}
    - {id: ticket, type: create_ticket, title: Set up the demo, category: onboarding}
"""


def test_crm_actions_create_what_contacts_show_lists(flowctl: Flowctl) -> None:
    setup(flowctl, CRM, "crm")
    flowctl.import_contacts([{"email": "ann@example.com", "first_name": "Ann"}])
    flowctl.send("form_submitted", "ann@example.com", form="demo")
    flowctl.once()
    made = flowctl.contact("ann@example.com")["created_by_flows"]
    assert [(m["kind"], m["flow"], m["step"]) for m in made] == [
        ("create_activity", "crm", "call"),
        ("create_sale", "crm", "deal"),
        ("create_ticket", "crm", "ticket"),
    ]
    assert made[0]["data"]["title"] == "Call Ann"  # rendered for the contact
    assert made[0]["data"]["due_at"] == (T0 + days(2)).astimezone(UTC).isoformat()
    assert made[1]["data"] == {"title": "Demo deal", "amount": 500, "stage": "lead"}
    assert made[2]["data"] == {"title": "Set up the demo", "category": "onboarding"}


def test_emails_land_in_the_outbox_and_are_sent(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    stats = flowctl.once()
    assert (stats["messages"], stats["delivered"]) == (1, 1)
    (first,) = flowctl.messages()
    assert set(first) >= MESSAGE_KEYS
    assert first["flow"] == "mailer"
    assert first["step"] == "first-mail"
    assert first["contact"] == "ann@example.com"
    assert (first["channel"], first["content"], first["status"]) == ("email", "hello", "sent")
    assert first["message_id"].startswith("<") and first["message_id"].endswith("@flowctl>")
    assert first["queued_at"] is not None and first["sent_at"] is not None

    flowctl.once(T0 + days(2))
    rows = flowctl.messages()
    assert [m["step"] for m in rows] == ["second-mail", "first-mail"]  # newest first
    assert {m["status"] for m in rows} == {"sent"}
    assert len({m["message_id"] for m in rows}) == 2
    assert flowctl.messages("--status", "queued") == []
    row = flowctl.participant("mailer", "ann@example.com")
    assert (row["status"], row["last_mailing"], row["last_mailing_status"]) == (
        "completed",
        "follow-up",
        "sent",
    )


def test_smtp_receives_each_message_once_with_its_message_id(
    flowctl: Flowctl, smtp_server: SmtpServer
) -> None:
    flowctl.configure(smtp_config(smtp_server.port))
    setup(flowctl, MAILER, "mailer")
    for who in ("ann@example.com", "bo@example.com"):
        flowctl.send("form_submitted", who, form="news")
    flowctl.once()
    flowctl.once(T0 + days(1))  # nothing due: nothing sent again
    flowctl.once(T0 + days(2))
    flowctl.once(T0 + days(3))

    received = smtp_server.mailbox.received
    ids = Counter(header(r.message, "Message-ID") for r in received)
    rows = flowctl.messages()
    assert len(rows) == 4
    assert {m["status"] for m in rows} == {"sent"}
    assert ids == Counter({m["message_id"]: 1 for m in rows})
    for r in received:
        assert header(r.message, "Message-ID") == message_id(header(r.message, "X-Flowctl-Key"))
        assert r.rcpt_tos in (["ann@example.com"], ["bo@example.com"])
    subjects = sorted(str(r.message["Subject"]) for r in received)
    assert subjects == ["Hello friend", "Hello friend", "Two days later", "Two days later"]


def test_failing_smtp_is_retried_with_backoff_then_fails(
    flowctl: Flowctl, start_smtp: object
) -> None:
    mailbox = Mailbox(answers={"ann@example.com": "451 4.3.0 try again later"})
    server: SmtpServer = start_smtp(mailbox=mailbox)  # type: ignore[operator]
    flowctl.configure(smtp_config(server.port, delivery_attempts=3, retry_backoff="10m"))
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.send("form_submitted", "bo@example.com", form="news")

    def ann() -> dict[str, object]:
        (row,) = [m for m in flowctl.messages() if m["contact"] == "ann@example.com"]
        return row

    stats = flowctl.once()
    assert (stats["delivered"], stats["failed"]) == (1, 0)  # Bo's went out
    assert (ann()["status"], ann()["attempts"]) == ("queued", 1)
    assert "451" in str(ann()["error"])

    flowctl.once(T0 + days(1) / 24 / 12)  # 5 minutes: before the backoff
    assert ann()["attempts"] == 1
    flowctl.once(T0 + days(1) / 24 / 6)  # 10 minutes: the second try
    assert (ann()["status"], ann()["attempts"]) == ("queued", 2)
    flowctl.once(T0 + days(1) / 24 / 3)  # 20 minutes: 10m · 2 after the second try is 30m
    assert ann()["attempts"] == 2
    stats = flowctl.once(T0 + days(1) / 24 / 2)  # 30 minutes: the third and last try
    assert stats["failed"] == 1
    failed = ann()
    assert (failed["status"], failed["attempts"]) == ("failed", 3)
    assert "SMTP 451" in str(failed["error"])
    assert failed["sent_at"] is None
    flowctl.once(T0 + days(1))
    assert ann()["attempts"] == 3
    assert len(server.mailbox.received) == 1
    assert flowctl.participant("mailer", "ann@example.com")["last_mailing_status"] == "failed"


def test_once_per_contact_mailing_is_sent_once(flowctl: Flowctl) -> None:
    setup(flowctl, ONCE, "once-a", "once-b")
    flowctl.send("form_submitted", "ann@example.com", form="a")
    flowctl.once()
    flowctl.at(T0 + days(1)).send("form_submitted", "ann@example.com", form="b")
    flowctl.once()
    (only,) = flowctl.messages()
    assert (only["flow"], only["content"], only["status"]) == ("once-a", "only-once", "sent")
    outcomes = {h["step"]: h["outcome"] for h in flowctl.history(contact="ann@example.com")}
    assert outcomes["mail-a"] == "sent"
    assert outcomes["mail-b"] == "suppressed"
    assert flowctl.participant("once-b", "ann@example.com")["status"] == "completed"


# -- views ---------------------------------------------------------------------------


def test_participants_json_has_the_spec_keys(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    (row,) = flowctl.participants("mailer")
    assert set(row) >= PARTICIPANT_KEYS
    assert row["contact"] == "ann@example.com"
    assert row["email"] == "ann@example.com"
    assert row["company"] is None
    assert row["registered"].startswith("2026-03-02T")
    assert (row["status"], row["current_step"], row["reason"]) == ("waiting", "pause-2d", None)
    assert (row["last_mailing"], row["last_mailing_status"]) == ("hello", "sent")
    assert row["last_mailing_date"] is not None
    assert row["succeeded"] is False
    assert flowctl.participants("mailer", "--status", "completed") == []


def test_history_of_a_contact_is_newest_first(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.once(T0 + days(2))
    rows = flowctl.history(contact="ann@example.com")
    assert [r["step"] for r in rows if r["step"]] == ["second-mail", "pause-2d", "first-mail"]
    ats = [r["at"] for r in rows]
    assert ats == sorted(ats, reverse=True)
    assert {r["flow"] for r in rows} == {"mailer"}


def test_purge_deletes_old_history_and_keeps_counters_and_participants(
    flowctl: Flowctl,
) -> None:
    setup(flowctl, SHORT_MEMORY + "---\n" + MAILER, "short-memory", "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="short")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.once(T0 + days(1))
    assert flowctl.participant("short-memory", "ann@example.com")["status"] == "completed"
    with flowctl.store() as store:
        counts = store.step_counts("short-memory")
        daily = store.daily_counts("short-memory")
    assert counts == {("mark", "done"): 1, ("rest", "waited"): 1, ("mark-again", "done"): 1}
    assert len(flowctl.history(flow="short-memory")) >= 3

    stats = flowctl.once(T0 + days(3) + days(1) / 24)  # history_retention: 2d after +1d
    assert stats["purged"] >= 3
    assert flowctl.history(flow="short-memory") == []
    assert flowctl.history(flow="mailer") != []  # 30 days for this one
    with flowctl.store() as store:
        assert store.step_counts("short-memory") == counts
        assert store.daily_counts("short-memory") == daily
    row = flowctl.participant("short-memory", "ann@example.com")
    assert row["status"] == "completed"


SLOW_BURN = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: slow-burn}
spec:
  triggers: [{type: form_submitted, form: slow}]
  steps:
    - {id: wait-40d, type: delay, duration: 40d}
    - id: opened
      type: decision
      if: {event: email_opened}
      then: [{id: warm, type: add_tag, tag: warm}]
      else: [{id: cold, type: add_tag, tag: cold}]
"""


def test_a_running_daemon_purges_as_it_starts_not_a_day_later(flowctl: Flowctl) -> None:
    setup(flowctl, SHORT_MEMORY, "short-memory")
    flowctl.send("form_submitted", "ann@example.com", form="short")
    flowctl.once()
    flowctl.once(T0 + days(1))
    assert flowctl.history(flow="short-memory") != []
    env = {**os.environ, "FLOWCTL_NOW": iso(T0 + days(5)), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "flowctl", "--store", flowctl.db, "daemon", "--tick", "1s"]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(60, proc.kill)  # never hangs the suite
    timer.start()
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "purge deleted=" in line:
                break
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
    assert any("purge deleted=" in line for line in lines), "".join(lines)
    assert proc.returncode == 0
    assert flowctl.history(flow="short-memory") == []


def test_purge_keeps_the_events_a_waiting_participant_still_tests(flowctl: Flowctl) -> None:
    setup(flowctl, SLOW_BURN, "slow-burn")
    flowctl.send("form_submitted", "ann@example.com", form="slow")
    flowctl.once()
    flowctl.at(T0 + days(1)).send("email_opened", "ann@example.com", mailing="hello")
    flowctl.once()
    flowctl.once(T0 + days(35))  # any run past 30 days purges
    flowctl.once(T0 + days(41))
    assert flowctl.participant("slow-burn", "ann@example.com")["status"] == "completed"
    assert flowctl.path("ann@example.com")[-2:] == ["opened", "warm"]


def test_once_reports_counts(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    assert flowctl.once() == {
        "events": 0,
        "entered": 0,
        "steps": 0,
        "messages": 0,
        "delivered": 0,
        "failed": 0,
        "purged": 0,
        "batches": 0,
    }
    flowctl.send("form_submitted", "ann@example.com", form="news")
    stats = flowctl.once()
    assert stats["entered"] == 1
    assert stats["messages"] == 1
    assert stats["delivered"] == 1
    assert stats["steps"] == 1  # first-mail; pause-2d counts when it has waited


PING = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: ping}
spec:
  triggers: [{type: form_submitted, form: ping}]
  steps:
    - {id: ping-mail, type: send_email, mailing: follow-up}
    - {id: pinged, type: add_tag, tag: pinged}
"""


def test_frequency_cap_holds_a_message_until_the_contact_is_under_it(flowctl: Flowctl) -> None:
    flowctl.configure('[limits]\nmessages_per_contact = 1\nper = "1d"\n')
    setup(flowctl, MAILER + "---\n" + PING, "mailer", "ping")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.at(T0 + days(1) / 24).send("form_submitted", "ann@example.com", form="ping")
    flowctl.once()
    ping = flowctl.participant("ping", "ann@example.com")
    assert (ping["status"], ping["current_step"]) == ("waiting", "ping-mail")
    assert [m["step"] for m in flowctl.messages()] == ["first-mail"]  # none dropped, one held

    flowctl.once(T0 + days(1) - days(1) / 24)  # still within a day of the first e-mail
    assert flowctl.participant("ping", "ann@example.com")["status"] == "waiting"
    flowctl.once(T0 + days(1))
    assert flowctl.participant("ping", "ann@example.com")["status"] == "completed"
    assert [m["step"] for m in flowctl.messages()] == ["ping-mail", "first-mail"]
    # the ping went out at +1d: a day later the mailer's second e-mail may go
    flowctl.once(T0 + days(2))
    assert flowctl.participant("mailer", "ann@example.com")["status"] == "completed"
    assert [m["sent_at"][:10] for m in flowctl.messages()] == [
        "2026-03-04",
        "2026-03-03",
        "2026-03-02",
    ]


def test_transfer_to_a_paused_flow_enters_when_it_resumes(flowctl: Flowctl) -> None:
    setup(flowctl, TRIAL, "trial", "welcome")
    flowctl.ok("pause", "welcome")
    flowctl.send("form_submitted", "ann@example.com", form="trial")
    flowctl.once()
    flowctl.at(T0 + days(1)).send("sale_created", "ann@example.com", offer="pro")
    flowctl.once()
    assert flowctl.participant("trial", "ann@example.com")["status"] == "succeeded"
    assert flowctl.participants("welcome") == []
    flowctl.at(T0 + days(2)).ok("resume", "welcome")
    flowctl.once()
    welcome = flowctl.participant("welcome", "ann@example.com")
    assert (welcome["status"], welcome["registered"][:10]) == ("completed", "2026-03-04")


def test_start_flow_respects_the_target_filter_and_goes_on(flowctl: Flowctl) -> None:
    picky = TRIAL.replace(
        "  triggers: [{type: manual}]\n", "  triggers: [{type: manual}]\n  filter: {tag: vip}\n"
    )
    setup(flowctl, picky, "starter", "welcome")
    flowctl.send("form_submitted", "ann@example.com", form="start")
    flowctl.send("tag_added", "bo@example.com", tag="vip")
    flowctl.send("form_submitted", "bo@example.com", form="start")
    flowctl.once()
    assert flowctl.participant("starter", "ann@example.com")["status"] == "completed"
    assert flowctl.participant("starter", "bo@example.com")["status"] == "completed"
    assert [p["email"] for p in flowctl.participants("welcome")] == ["bo@example.com"]


def test_daemon_once_twice_at_the_same_instant_does_nothing_more(flowctl: Flowctl) -> None:
    setup(flowctl, MAILER, "mailer")
    flowctl.send("form_submitted", "ann@example.com", form="news")
    flowctl.once()
    flowctl.once(T0 + days(2))
    history = flowctl.history(flow="mailer")
    again = flowctl.once()
    assert (again["entered"], again["steps"], again["messages"], again["delivered"]) == (0, 0, 0, 0)
    assert flowctl.history(flow="mailer") == history
    assert len(flowctl.messages()) == 2
