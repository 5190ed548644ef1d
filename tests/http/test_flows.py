"""Flows driven end to end over HTTP: a form enters a contact, the daemon renders a
mailing with tracked links, a click meets a success criterion and a ``wait_until``,
an open is recorded once a day, and a one-click unsubscribe suppresses the next e-mail."""

from __future__ import annotations

import base64
import string
from typing import Any

from flowctl.store.records import OutMessage
from tests.daemon.conftest import T0, Flowctl, days
from tests.http.conftest import THANKS, Web, links

OFFER = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: offer}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: demo}]
  success:
    when: {event: email_link_clicked, mailing: offer-mail, url: "https://shop.example/*"}
    on_success: continue
  steps:
    - id: send-offer
      type: send_email
      mailing: offer-mail
    - id: wait-click
      type: wait_until
      condition: {event: email_link_clicked, mailing: offer-mail}
      timeout: 3d
      on_timeout:
        - {id: tag-cold, type: add_tag, tag: cold}
    - id: tag-clicked
      type: add_tag
      tag: clicked
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: offer-mail}
spec:
  from: "Acme <news@acme.example>"
  subject: "An offer for {{ contact.first_name }}"
  html: >-
    <html><body><p>Hi {{ contact.first_name }}, see
    <a href="https://shop.example/offer?a=1&amp;b=2">the offer</a> or
    <a href="mailto:help@acme.example">write to us</a>.</p></body></html>
  text: "Hi {{ contact.first_name }}, see https://shop.example/offer?a=1&b=2."
"""

NEWS = """\
apiVersion: flowctl/v1
kind: Flow
metadata: {name: news}
spec:
  timezone: Europe/Stockholm
  triggers: [{type: form_submitted, form: news}]
  steps:
    - {id: first-mail, type: send_email, mailing: hello}
    - {id: pause-1d, type: delay, duration: 1d}
    - {id: second-mail, type: send_email, mailing: follow-up}
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: hello}
spec:
  from: "Acme <news@acme.example>"
  subject: "Hello"
  text: "Welcome: https://acme.example/start"
  tracking: false
---
apiVersion: flowctl/v1
kind: Mailing
metadata: {name: follow-up}
spec:
  from: "Acme <news@acme.example>"
  subject: "A day later"
  text: "Still there?"
"""


def start(flowctl: Flowctl, web: Web, text: str, flow: str, form: str) -> OutMessage:
    """Apply and activate ``flow``, post ``form`` for Ann, run the daemon: her first e-mail."""
    flowctl.apply(flowctl.write("flows.yaml", text))
    flowctl.activate(flow)
    posted = web.form(form, f"email=ann@example.com&first_name=Ann&_redirect={THANKS}done")
    assert posted.status == 303
    assert posted.headers["location"] == f"{THANKS}done"
    flowctl.once()
    (mail,) = mails(flowctl)
    return mail


def mails(flowctl: Flowctl) -> list[OutMessage]:
    with flowctl.store() as store:
        return sorted(store.messages(), key=lambda m: m.id)


def events(flowctl: Flowctl, type: str) -> list[dict[str, Any]]:
    with flowctl.store() as store:
        (ann,) = store.find_contacts(emails=["ann@example.com"])
        return [dict(e) for e in store.events_for(ann.cid) if e["type"] == type]


def test_click_meets_success_and_wait_until(web: Web, flowctl: Flowctl) -> None:
    mail = start(flowctl, web, OFFER, "offer", "demo")
    html, text = mail.payload["html"], mail.payload["text"]
    assert "https://shop.example" not in html and "https://shop.example" not in text
    assert 'href="mailto:help@acme.example"' in html
    assert f'<img src="{web.base}/t/o/' in html and html.index("<img") < html.index("</body>")
    assert text.endswith(".") and links(text)[0].startswith(f"{web.base}/t/c/")
    assert flowctl.participant("offer", "ann@example.com")["current_step"] == "wait-click"

    clicked = web.request("GET", web.path_of(links(html)[0]))
    assert clicked.status == 302
    assert clicked.headers["location"] == "https://shop.example/offer?a=1&b=2"
    (event,) = events(flowctl, "email_link_clicked")
    assert event["data"]["mailing"] == "offer-mail"
    assert event["data"]["url"] == "https://shop.example/offer?a=1&b=2"

    flowctl.once(T0 + days(0.1))
    ann = flowctl.participant("offer", "ann@example.com")
    assert ann["succeeded"] is True and ann["status"] == "completed"
    assert flowctl.path("ann@example.com") == ["send-offer", "wait-click", "tag-clicked"]
    waits = [h for h in flowctl.history(contact="ann@example.com") if h["step"] == "wait-click"]
    assert "met" in {h["outcome"] for h in waits}


def test_text_link_click_same_url(web: Web, flowctl: Flowctl) -> None:
    mail = start(flowctl, web, OFFER, "offer", "demo")
    reply = web.request("GET", web.path_of(links(mail.payload["text"])[0]))
    assert reply.headers["location"] == "https://shop.example/offer?a=1&b=2"


def test_open_recorded_once_a_day(web: Web, flowctl: Flowctl) -> None:
    mail = start(flowctl, web, OFFER, "offer", "demo")
    (pixel,) = [u for u in links(mail.payload["html"]) if "/t/o/" in u]
    path = web.path_of(pixel.rstrip('"'))
    assert web.request("HEAD", path).status == 200
    assert events(flowctl, "email_opened") == []
    for _ in range(3):
        reply = web.request("GET", path)
        assert reply.status == 200
        assert reply.headers["content-type"] == "image/gif"
        assert reply.headers["cache-control"].startswith("no-store")
        assert reply.body.startswith(b"GIF89a")
    assert len(events(flowctl, "email_opened")) == 1
    flowctl.at(T0 + days(1))
    web.request("GET", path)
    opened = events(flowctl, "email_opened")
    assert len(opened) == 2
    assert opened[0]["data"]["mailing"] == "offer-mail"


def respell(text: str) -> str | None:
    """The same bytes in base64url with other spare bits in the last character, if any."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    for char in string.ascii_letters + string.digits + "-_":
        other = text[:-1] + char
        if other != text and base64.urlsafe_b64decode(other + "=" * (-len(other) % 4)) == data:
            return other
    return None


def test_forged_truncated_and_misused_tokens_are_404(web: Web, flowctl: Flowctl) -> None:
    mail = start(flowctl, web, OFFER, "offer", "demo")
    click = web.path_of(links(mail.payload["html"])[0]).removeprefix("/t/c/")
    pixel = next(u for u in links(mail.payload["html"]) if "/t/o/" in u)
    opened = web.path_of(pixel).removeprefix("/t/o/")
    body, mac = click.split(".")
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    respelled = [
        f"/t/c/{b}.{m}" for b, m in ((respell(body), mac), (body, respell(mac))) if b and m
    ]
    assert respelled  # one of the two has spare bits in its last character
    for bad in (
        *respelled,
        f"/t/c/{click[:-3]}",
        f"/t/c/{click[:20]}",
        f"/t/c/{flipped}.{mac}",
        f"/t/c/{body}.{opened.split('.')[1]}",
        f"/t/c/{body}",
        f"/t/c/{opened}",
        f"/u/{click}",
        f"/t/o/{click}",
        "/t/c/..",
        "/t/o/" + "A" * 9000,
    ):
        reply = web.request("GET", bad)
        assert reply.status == 404, bad
        assert "location" not in reply.headers
    assert web.request("POST", f"/u/{opened}").status == 404
    assert events(flowctl, "email_link_clicked") == []
    assert events(flowctl, "email_opened") == []
    assert flowctl.contact("ann@example.com").get("unsubscribed") is None


def test_unsubscribe_suppresses_the_next_email(web: Web, flowctl: Flowctl) -> None:
    mail = start(flowctl, web, NEWS, "news", "news")
    headers = mail.payload["headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = headers["List-Unsubscribe"].strip("<>")
    assert mail.payload["text"] == "Welcome: https://acme.example/start"  # tracking: false

    page = web.request("GET", web.path_of(unsubscribe))
    assert page.status == 200 and '<form method="post">' in page.text
    assert flowctl.contact("ann@example.com").get("unsubscribed") is None

    one_click = web.request(
        "POST",
        web.path_of(unsubscribe),
        "List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status == 200 and "unsubscribed" in one_click.text
    assert web.request("POST", web.path_of(unsubscribe)).status == 200  # a replay
    assert flowctl.contact("ann@example.com")["unsubscribed"] is True
    (change,) = events(flowctl, "contact_updated")
    assert change["data"]["set"] == {"unsubscribed": True}

    flowctl.once(T0 + days(1.1))
    assert len(mails(flowctl)) == 1
    second = [h for h in flowctl.history(contact="ann@example.com") if h["step"] == "second-mail"]
    assert [h["outcome"] for h in second] == ["suppressed"]
    audit = flowctl.json("audit")
    assert any(a["command"] == "unsubscribe" for a in audit)
