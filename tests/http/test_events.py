"""``POST /v1/events`` over real HTTP: counts, bad items by index, idempotency, and
every refusal (401, 413, 415, 400) recording nothing."""

from __future__ import annotations

import http.client
import json

from tests.daemon.conftest import Flowctl
from tests.http.conftest import Web


def event(email: str, type: str = "page_visited", **more: object) -> dict[str, object]:
    return {
        "type": type,
        "contact": {"email": email},
        "data": {"url": "https://a.example/"},
        **more,
    }


def stored_events(flowctl: Flowctl) -> list[str]:
    """Every event's type in the store, oldest first."""
    with flowctl.store() as store:
        return [e["type"] for c in store.contacts() for e in store.events_for(c.cid)]


def test_events_single_accepted(web: Web, flowctl: Flowctl) -> None:
    reply = web.events(event("ann@example.com", id="e-1"))
    assert reply.status == 202
    assert reply.json() == {"received": 1, "added": 1, "duplicates": 0, "rejected": []}
    assert flowctl.contact("ann@example.com")["email"] == "ann@example.com"
    assert stored_events(flowctl) == ["contact_created", "page_visited"]


def test_events_batch_bad_item_by_index_good_kept(web: Web, flowctl: Flowctl) -> None:
    items = [
        event("ann@example.com"),
        {"type": "page_visited", "contact": {}},
        "not an event",
        event("bob@example.com", occurred_at="yesterday"),
        event("cy@example.com", type="tag_added", data={"tag": "vip"}),
    ]
    reply = web.events(items)
    assert reply.status == 202
    body = reply.json()
    assert (body["received"], body["added"], body["duplicates"]) == (5, 2, 0)
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert "'id' or an 'email'" in body["rejected"][0]["reason"]
    assert "occurred_at" in body["rejected"][2]["reason"]
    assert flowctl.contact("cy@example.com")["tags"] == ["vip"]


def test_events_text_no_store_keeps_is_rejected_by_index(web: Web, flowctl: Flowctl) -> None:
    items = [
        event("ann@example.com", type="page\x00visited"),
        event("bob@example.com", data={"x": "\ud800"}),  # half an emoji, as JSON "\ud800"
        event("cy@example.com", occurred_at="0001-01-01T00:00:00+14:00"),
        event("dan@example.com", id="good-1"),
    ]
    reply = web.events(items)
    assert reply.status == 202
    rejected = reply.json()["rejected"]
    assert [r["index"] for r in rejected] == [0, 1, 2]
    assert "NUL" in rejected[0]["reason"] and "half of a character" in rejected[1]["reason"]
    assert "out of range" in rejected[2]["reason"]
    assert stored_events(flowctl) == ["contact_created", "page_visited"]


def test_events_repeated_id_is_a_duplicate(web: Web, flowctl: Flowctl) -> None:
    assert web.events([event("ann@example.com", id="e-1")]).json()["added"] == 1
    again = web.events([event("ann@example.com", id="e-1"), event("ann@example.com", id="e-2")])
    assert again.status == 202
    assert (again.json()["added"], again.json()["duplicates"]) == (1, 1)
    assert stored_events(flowctl).count("page_visited") == 2


def test_events_all_rejected_is_422(web: Web, flowctl: Flowctl) -> None:
    reply = web.events([{"type": "x"}, {"contact": {"email": "ann@example.com"}}])
    assert reply.status == 422
    assert [r["index"] for r in reply.json()["rejected"]] == [0, 1]
    assert stored_events(flowctl) == []


def test_events_missing_bearer_is_401(web: Web, flowctl: Flowctl) -> None:
    body = json.dumps(event("ann@example.com"))
    reply = web.request("POST", "/v1/events", body, {"Content-Type": "application/json"})
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token" in reply.json()["error"]
    assert stored_events(flowctl) == []


def test_events_wrong_bearer_is_401(web: Web, flowctl: Flowctl) -> None:
    for auth in ("Bearer wrong-token-0123456789", "Basic dXNlcjpwYXNz", f"Bearer {web.token}x"):
        assert web.events(event("ann@example.com"), Authorization=auth).status == 401
    assert stored_events(flowctl) == []


def test_events_wrong_content_type_is_415(web: Web, flowctl: Flowctl) -> None:
    body = json.dumps(event("ann@example.com"))
    for kind in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = dict(web.auth)
        if kind:
            headers["Content-Type"] = kind
        reply = web.request("POST", "/v1/events", body, headers)
        assert reply.status == 415, kind
        assert "application/json" in reply.json()["hint"]
    assert stored_events(flowctl) == []


def test_events_bad_json_is_400(web: Web, flowctl: Flowctl) -> None:
    headers = {**web.auth, "Content-Type": "application/json"}
    for body, says in (
        (b'{"type": "x", ', "not valid JSON"),
        (b"\xff\xfe", "not"),
        (b'{"type": NaN}', "not valid JSON"),
        (b"42", "an event (a JSON object) or an array"),
    ):
        reply = web.request("POST", "/v1/events", body, headers)
        assert reply.status == 400, body
        assert says in reply.json()["error"]
    assert stored_events(flowctl) == []


def test_events_oversized_body_is_413(web: Web, flowctl: Flowctl) -> None:
    many = [event(f"c{i}@example.com", data={"pad": "x" * 2000}) for i in range(600)]
    reply = web.events(many)
    assert reply.status == 413
    assert "larger than" in reply.json()["error"]
    assert stored_events(flowctl) == []


def test_events_oversized_chunked_body_is_413(web: Web, flowctl: Flowctl) -> None:
    conn = http.client.HTTPConnection(web.host, web.port, timeout=30)
    chunk = b"[" + b" " * 65536

    def body() -> object:
        yield chunk
        for _ in range(20):
            yield b" " * 65536
        yield b"]"

    conn.request(
        "POST",
        "/v1/events",
        body=body(),  # type: ignore[arg-type]
        headers={**web.auth, "Content-Type": "application/json"},
        encode_chunked=True,
    )
    reply = conn.getresponse()
    assert reply.status == 413
    conn.close()
    assert stored_events(flowctl) == []


def test_events_too_many_items_is_413(web: Web, flowctl: Flowctl) -> None:
    reply = web.events([{"type": "x"}] * 1001)
    assert reply.status == 413
    assert "at most 1000" in reply.json()["error"]


def test_healthz_and_metrics(web: Web, flowctl: Flowctl) -> None:
    assert web.request("GET", "/healthz").json() == {"status": "ok"}
    web.events([event("ann@example.com"), {"type": "x"}])
    assert web.request("GET", "/metrics").status == 401
    metrics = web.request("GET", "/metrics", headers=web.auth)
    assert metrics.status == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'flowctl_events_received_total{source="api"} 1' in metrics.text
    assert 'flowctl_events_rejected_total{source="api"} 1' in metrics.text


def test_unknown_path_and_method(web: Web) -> None:
    assert web.request("GET", "/nowhere").status == 404
    wrong = web.request("GET", "/v1/events")
    assert wrong.status == 405
    assert "POST" in wrong.headers["allow"]
