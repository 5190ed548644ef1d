"""``flowctl why FLOW --contact REF``: each reason a contact is or is not in a flow.

One flow (a trigger, a filter on country and tag, ``reentry: never``) and
one contact per reason, run through the daemon on fixed instants: no
matching trigger, an event before the activation, the filter false (the
failing condition named), already a participant, reentry never, and the
one who entered.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.daemon.conftest import T0, Flowctl, days

NORDIC = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: nordic}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: demo}]
  filter:
    all:
      - field: contact.country
        in: [SE, NO]
      - not: {tag: customer}
  reentry: never
  steps:
    - {id: hello, type: add_tag, tag: greeted}
    - {id: wait-1d, type: delay, duration: 1d}
"""
CONTACTS = [
    {"id": "ann", "email": "ann@example.com", "country": "SE"},
    {"id": "bo", "email": "bo@example.com", "country": "SE"},
    {"id": "cy", "email": "cy@example.com", "country": "NO"},
    {"id": "dan", "email": "dan@example.com", "country": "DK"},
    {"id": "eva", "email": "eva@example.com", "country": "SE"},
    {"id": "fay", "email": "fay@example.com", "country": "SE", "tags": ["customer"]},
    {"id": "gus", "email": "gus@example.com", "country": "SE"},
]


@pytest.fixture
def nordic(flowctl: Flowctl) -> Flowctl:
    """The flow active from T0; each contact's events sent and the daemon run up to T0+1h."""
    flowctl.apply(flowctl.write("nordic.yaml", NORDIC))
    flowctl.activate("nordic")
    flowctl.import_contacts(CONTACTS)
    flowctl.send("form_submitted", "ann@example.com", at=T0, form="demo", id="ann-1")
    flowctl.send("form_submitted", "bo@example.com", at=T0, form="newsletter")
    flowctl.send("page_visited", "bo@example.com", at=T0, url="https://acme.example/")
    flowctl.send("form_submitted", "cy@example.com", at=T0 - days(1), form="demo")
    flowctl.send("form_submitted", "dan@example.com", at=T0, form="demo")
    flowctl.send("form_submitted", "eva@example.com", at=T0, form="demo")
    flowctl.send("form_submitted", "fay@example.com", at=T0, form="demo")
    flowctl.once(T0)
    flowctl.at(T0 + days(1 / 24))
    flowctl.send("form_submitted", "ann@example.com", form="demo", id="ann-2")
    flowctl.once()
    return flowctl


def why(flowctl: Flowctl, contact: str) -> dict[str, Any]:
    data: dict[str, Any] = flowctl.json("why", "nordic", "--contact", contact)
    return data


def test_why_entered_and_already_a_participant(nordic: Flowctl) -> None:
    data = why(nordic, "ann@example.com")
    assert data["verdict"] == "participant"
    assert "waiting at step wait-1d" in data["summary"]
    first, second = data["events"]
    assert (first["id"], first["matched"], first["decision"]) == ("ann-1", True, "entered")
    assert first["participant"] == data["participations"][0]["id"]
    assert (second["id"], second["matched"], second["decision"]) == (
        "ann-2",
        True,
        "already_active",
    )
    assert "already a participant" in second["message"]
    assert [(p["status"], p["step"]) for p in data["participations"]] == [("waiting", "wait-1d")]


def test_why_no_matching_trigger(nordic: Flowctl) -> None:
    data = why(nordic, "bo@example.com")
    assert data["verdict"] == "no_trigger"
    [event] = data["events"]  # the page visit is not a trigger's type
    assert (event["matched"], event["decision"]) == (False, "no_trigger")
    assert "form_submitted form=newsletter matches no trigger" in event["message"]
    assert "form_submitted form=demo" in event["message"]
    assert data["other_events"] >= 1  # the page visit (and contact_created on import)
    assert data["participations"] == []


def test_why_no_event_at_all(nordic: Flowctl) -> None:
    data = why(nordic, "id:gus")
    assert (data["verdict"], data["events"]) == ("no_trigger", [])
    assert "no event that could enter it was recorded" in data["summary"]


def test_why_before_activation(nordic: Flowctl) -> None:
    data = why(nordic, "cy@example.com")
    assert data["verdict"] == "before_activation"
    [event] = data["events"]
    assert (event["matched"], event["decision"]) == (True, "before_activation")
    assert "before the flow was first activated" in event["message"]


def test_why_filter_false_names_the_failing_condition(nordic: Flowctl) -> None:
    data = why(nordic, "dan@example.com")
    assert data["verdict"] == "filter"
    [event] = data["events"]
    assert event["decision"] == "filter"
    assert event["failing"] == "contact.country in ['SE', 'NO'] (the value is 'DK')"
    assert data["filter_now"] == {"holds": False, "failing": event["failing"]}
    fay = why(nordic, "fay@example.com")["events"][0]
    assert (fay["decision"], fay["failing"]) == ("filter", "not (tag customer): tag customer holds")


def test_why_names_a_triggers_own_filter(flowctl: Flowctl) -> None:
    text = NORDIC.replace(
        "triggers: [{type: form_submitted, form: demo}]",
        "triggers: [{type: form_submitted, form: demo, filter: {field: contact.country, eq: SE}}]",
    )
    flowctl.apply(flowctl.write("nordic.yaml", text))
    flowctl.activate("nordic")
    flowctl.import_contacts(CONTACTS)
    flowctl.send("form_submitted", "cy@example.com", at=T0, form="demo")
    flowctl.once(T0)
    [event] = why(flowctl, "cy@example.com")["events"]
    assert event["decision"] == "filter"
    assert "the trigger's filter is false" in event["message"]
    assert event["failing"] == "contact.country eq SE (the value is 'NO')"


def test_why_reentry_never(nordic: Flowctl) -> None:
    nordic.once(T0 + days(1))  # eva's participation completes
    nordic.at(T0 + days(2))
    nordic.send("form_submitted", "eva@example.com", form="demo")
    nordic.once()
    data = why(nordic, "eva@example.com")
    assert data["verdict"] == "reentry"
    assert data["summary"].startswith("was in the flow: completed")
    first, second = data["events"]
    assert first["decision"] == "entered"
    assert second["decision"] == "reentry"
    assert "reentry: never" in second["message"]
    assert data["reentry"] == "never"


def test_why_text_explains(nordic: Flowctl) -> None:
    out = nordic.ok("why", "nordic", "--contact", "dan@example.com").out
    assert "not in the flow: the flow's filter is false" in out
    assert "contact.country in ['SE', 'NO'] (the value is 'DK')" in out
    assert "Reentry" in out and "never" in out
    assert "in no flow" in out
    ann = nordic.ok("why", "nordic", "--contact", "ann@example.com").out
    assert "in the flow: waiting at step wait-1d" in ann
    assert "already_active" in ann


def test_why_unknown_contact_and_flow(nordic: Flowctl) -> None:
    missing = nordic("why", "nordic", "--contact", "zed@example.com")
    assert missing.code == 1 and "no contact zed@example.com" in missing.err
    unknown = nordic("why", "nordik", "--contact", "ann@example.com")
    assert unknown.code == 1 and "nordic" in unknown.err


def test_why_held_while_the_flow_is_paused(nordic: Flowctl) -> None:
    nordic.ok("pause", "nordic")
    nordic.send("form_submitted", "gus@example.com", form="demo")
    nordic.once()
    data = why(nordic, "id:gus")
    assert data["state"] == "paused"
    [event] = data["events"]
    assert (event["decision"], event["matched"]) == ("held", True)
    assert "paused" in event["message"]
    nordic.ok("resume", "nordic")
    nordic.once()
    assert why(nordic, "id:gus")["events"][0]["decision"] == "entered"


def test_why_reads_a_date_in_the_contacts_zone_as_the_filter_does(flowctl: Flowctl) -> None:
    flowctl.apply(
        flowctl.write(
            "tz.yaml",
            "apiVersion: flowctl/v1\nkind: Flow\nmetadata: {name: tz}\nspec:\n"
            "  contact_timezone: true\n  triggers: [{type: form_submitted}]\n"
            "  filter: {field: contact.signup, before: '2026-03-10'}\n"
            "  steps: [{id: hello, type: add_tag, tag: greeted}]\n",
        )
    )
    flowctl.activate("tz")
    # 9 March 20:00 UTC is already 10 March in Auckland: not before the 10th there.
    kiwi = {"email": "kiwi@example.com", "timezone": "Pacific/Auckland"}
    flowctl.import_contacts([{**kiwi, "signup": "2026-03-09T20:00:00Z"}])
    flowctl.send("form_submitted", "kiwi@example.com", at=T0)
    flowctl.once(T0)
    data = flowctl.json("why", "tz", "--contact", "kiwi@example.com")
    assert data["verdict"] == "filter"
    assert data["filter_now"]["holds"] is False
    assert "2026-03-09T20:00:00Z" in data["events"][0]["failing"]
