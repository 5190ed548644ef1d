"""WebhookTransport against a real ThreadingHTTPServer on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowctl.channels import DeliveryError, WebhookTransport
from tests.channels.conftest import Answer, HttpServer, free_port, out_message

KEY = "1042:3:welcome:1"


def call(url: str, **payload: object) -> DeliveryError:
    """The error of the webhook action calling ``url`` (the test fails if none)."""
    with WebhookTransport(timeout=2.0) as hooks, pytest.raises(DeliveryError) as caught:
        hooks.send(out_message("webhook", to=url, payload=payload))
    return caught.value


# --- the webhook action ------------------------------------------------------


def test_webhook_posts_a_json_body_with_its_headers(http_server: HttpServer) -> None:
    payload = {"body": {"event": "joined", "plan": "pro"}, "headers": {"X-Signature": "abc"}}
    with WebhookTransport() as hooks:
        reference = hooks.send(
            out_message("webhook", to=f"{http_server.url}/hooks/crm?x=1", payload=payload)
        )
    assert reference is None
    [got] = http_server.requests
    assert (got.method, got.path) == ("POST", "/hooks/crm?x=1")
    assert got.json() == {"event": "joined", "plan": "pro"}
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-signature"] == "abc"
    assert got.headers["idempotency-key"] == KEY
    assert got.headers["user-agent"].startswith("flowctl/")


def test_webhook_sends_a_string_body_as_text(http_server: HttpServer) -> None:
    payload = {"method": "put", "body": "plain words ü", "headers": {"Content-Type": "text/csv"}}
    with WebhookTransport() as hooks:
        hooks.send(out_message("webhook", to=http_server.url, payload=payload))
    [got] = http_server.requests
    assert got.method == "PUT"
    assert got.body == "plain words ü".encode()
    assert got.headers["content-type"] == "text/csv"  # the action's own header wins


def test_webhook_string_body_defaults_to_text_plain(http_server: HttpServer) -> None:
    with WebhookTransport() as hooks:
        hooks.send(out_message("webhook", to=http_server.url, payload={"body": "hi"}))
    assert http_server.requests[0].headers["content-type"] == "text/plain; charset=utf-8"


def test_webhook_without_a_body(http_server: HttpServer) -> None:
    with WebhookTransport() as hooks:
        hooks.send(out_message("webhook", to=http_server.url, payload={"method": "GET"}))
    [got] = http_server.requests
    assert (got.method, got.body) == ("GET", b"")
    assert "content-type" not in got.headers


# --- SMS over a provider's HTTP API -------------------------------------------


def test_sms_posts_json_to_the_configured_url(http_server: HttpServer) -> None:
    http_server.answer = Answer(201, {"Content-Type": "application/json"}, b'{"id": "SM123"}')
    sms = WebhookTransport(f"{http_server.url}/send", {"X-Account": "acme"})
    with sms:
        reference = sms.send(out_message("sms"))
    assert sms.channel == "sms" and reference == "SM123"
    [got] = http_server.requests
    assert (got.method, got.path) == ("POST", "/send")
    assert got.json() == {"to": "+4915112345678", "text": "Your code is 1234", "key": KEY}
    assert got.headers["idempotency-key"] == KEY
    assert got.headers["x-account"] == "acme"
    assert got.headers["content-type"] == "application/json"


def test_sms_headers_go_only_to_the_sms_provider(http_server: HttpServer) -> None:
    with WebhookTransport(f"{http_server.url}/send", {"X-Account": "acme"}) as sms:
        sms.send(out_message("webhook", to=f"{http_server.url}/elsewhere"))
    assert "x-account" not in http_server.requests[0].headers


def test_sms_without_a_url_is_refused() -> None:
    with WebhookTransport() as hooks, pytest.raises(DeliveryError) as caught:
        hooks.send(out_message("sms"))
    assert caught.value.reason == "SMS over webhook needs [sms] url"
    assert caught.value.permanent is True


# --- outcomes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (408, False), (429, False), (404, True), (400, True)],
)
def test_webhook_error_status(http_server: HttpServer, status: int, permanent: bool) -> None:
    http_server.answer = Answer(status, body=b"the reason\nmore lines")
    error = call(f"{http_server.url}/hook?token=s3cret")
    assert error.reason == f"HTTP {status} from {http_server.url}/hook: the reason"
    assert error.permanent is permanent
    assert "s3cret" not in error.reason


def test_webhook_redirect_is_not_followed(start_http: Callable[[], HttpServer]) -> None:
    origin, elsewhere = start_http(), start_http()
    origin.answer = Answer(302, {"Location": f"{elsewhere.url}/steal?t=1"})
    error = call(f"{origin.url}/hook")
    assert error.reason == (
        f"HTTP 302 from {origin.url}/hook redirects to {elsewhere.url}/steal; not followed"
    )
    assert error.permanent is True
    assert elsewhere.requests == []


def test_webhook_timeout_is_temporary(http_server: HttpServer) -> None:
    http_server.answer = Answer(delay=5.0)
    with WebhookTransport(timeout=0.2) as hooks, pytest.raises(DeliveryError) as caught:
        hooks.send(out_message("webhook", to=f"{http_server.url}/slow"))
    assert caught.value.reason == f"no answer from {http_server.url}/slow within 0.2s"
    assert caught.value.permanent is False


def test_webhook_connection_refused_is_temporary() -> None:
    port = free_port()
    error = call(f"http://127.0.0.1:{port}/hook")
    assert error.reason == f"connection refused to 127.0.0.1:{port}"
    assert error.permanent is False


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "not a url", "http://h:port/x"]
)
def test_webhook_calls_only_http_urls(url: str) -> None:
    error = call(url)
    assert error.reason.startswith("not an http(s) URL")
    assert error.permanent is True


def test_webhook_header_with_a_line_break_is_permanent(http_server: HttpServer) -> None:
    error = call(http_server.url, headers={"X-Evil": "a\r\nX-Injected: 1"})
    assert error.permanent is True
    assert error.reason.startswith(f"cannot call {http_server.url}")
    assert http_server.requests == []


def test_webhook_body_that_is_not_json_is_permanent() -> None:
    error = call("http://127.0.0.1:9/hook", body={"at": object()})
    assert error.permanent is True and "JSON" in error.reason


def test_webhook_transport_refuses_email() -> None:
    with WebhookTransport() as hooks, pytest.raises(DeliveryError) as caught:
        hooks.send(out_message("email"))
    assert caught.value.permanent is True
