"""``POST /v1/forms/{form}``: a website form enters a flow; what a form may and may not
change; redirects only to configured thank-you pages; refusals record nothing."""

from __future__ import annotations

import json

from tests.daemon.conftest import Flowctl
from tests.http.conftest import THANKS, Web

CONTACT_ME = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: contact-me}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: contact-me}]
  steps:
    - {id: tag-lead, type: add_tag, tag: lead}
"""


def test_form_post_enters_a_flow(web: Web, flowctl: Flowctl) -> None:
    flowctl.apply(flowctl.write("flow.yaml", CONTACT_ME))
    flowctl.activate("contact-me")
    # what a browser posts from <form method="post" action=".../v1/forms/contact-me">
    body = (
        "email=ann%40example.com&first_name=Ann&message=Call+me%21&unsubscribed=false"
        "&tags=vip&interest=a&interest=b&_redirect=https%3A%2F%2Fwww.example.com%2Fthanks%2F"
    )
    reply = web.form("contact-me", body)
    assert reply.status == 303
    assert reply.headers["location"] == THANKS
    flowctl.once()
    ann = flowctl.participant("contact-me", "ann@example.com")
    assert ann["status"] == "completed"
    contact = flowctl.contact("ann@example.com")
    assert contact["first_name"] == "Ann"
    assert contact["tags"] == ["lead"]  # the form's 'tags' did not reach the contact
    assert "unsubscribed" not in contact
    with flowctl.store() as store:
        (row,) = store.find_contacts(emails=["ann@example.com"])
        (event,) = [e for e in store.events_for(row.cid) if e["type"] == "form_submitted"]
    assert event["data"]["form"] == "contact-me"
    assert event["data"]["message"] == "Call me!"
    assert event["data"]["interest"] == ["a", "b"]
    assert "_redirect" not in event["data"]


def test_form_json_without_redirect_is_202(web: Web, flowctl: Flowctl) -> None:
    fields = {"email": "bob@example.com", "last_name": "Stone", "score": 7}
    reply = web.form("news", json.dumps(fields), "application/json")
    assert reply.status == 202
    assert reply.json() == {"form": "news", "added": 1}
    assert flowctl.contact("bob@example.com")["last_name"] == "Stone"


def test_form_redirect_must_be_configured(web: Web, flowctl: Flowctl) -> None:
    outside = [f"{THANKS}{up}admin" for up in ("../", "%2e%2e/", ".%2E/", "..%5c", "..\\")]
    for target in (
        "https://evil.example/",
        "https://www.example.com.evil.example/",
        "/local",
        *outside,
    ):
        reply = web.form("news", f"email=bob@example.com&_redirect={target}")
        assert reply.status == 400, target
        assert "[http] redirects" in reply.json()["hint"]
    query = web.request(
        "POST",
        "/v1/forms/news?redirect=https://www.example.com/exact",
        "email=bob@example.com",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert query.status == 303
    refused = web.request(
        "POST",
        "/v1/forms/news?redirect=https://www.example.com/exact/more",
        "email=cy@example.com",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert refused.status == 400
    assert flowctl("contacts", "show", "cy@example.com").code == 1


def test_form_refusals_record_nothing(web: Web, flowctl: Flowctl) -> None:
    cases = [
        (web.form("news", "first_name=Ann"), 422),
        (web.form("news", "email=not-an-address"), 422),
        (web.form("news", "email=ann@example.com", "multipart/form-data; boundary=x"), 415),
        (web.form("news", "email=ann@example.com", "text/plain"), 415),
        (web.form("news", "[1, 2]", "application/json"), 400),
        (web.form("news", "{", "application/json"), 400),
        (web.form("news", "email=ann@example.com&" + "&".join(f"f{i}=x" for i in range(300))), 413),
        (web.form("news", "email=ann@example.com&pad=" + "x" * (1024 * 1024)), 413),
        (web.form("-bad-name", "email=ann@example.com"), 404),
        (web.form("news", json.dumps({f"f{i}": "x" for i in range(300)}), "application/json"), 413),
    ]
    for reply, status in cases:
        assert reply.status == status, reply.body
        assert reply.json()["error"]
    for body, kind in [
        ("email=a@example.com&email=b@example.com", "application/x-www-form-urlencoded"),
        ('{"email": 5}', "application/json"),
        ('{"email": ["a@example.com"]}', "application/json"),
    ]:
        reply = web.form("news", body, kind)
        assert reply.status == 422
        assert "'email' must be one e-mail address" in reply.json()["error"]
    with flowctl.store() as store:
        assert store.count_contacts() == 0
