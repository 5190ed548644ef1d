"""SmtpTransport against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowctl.channels import DeliveryError, SmtpTransport, compose, message_id
from flowctl.errors import InputError
from tests.channels.conftest import (
    PASSWORD,
    USER,
    Certificate,
    Mailbox,
    SmtpServer,
    email_config,
    free_port,
    out_message,
)

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)

# RFC 5322 msg-id with a dot-atom on both sides (no obsolete forms)
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"<{ATEXT}(\.{ATEXT})*@{ATEXT}(\.{ATEXT})*>")


def transport(port: int, **changes: object) -> SmtpTransport:
    return SmtpTransport(email_config(port, **changes), clock=lambda: NOW)


def unescape(mid: str) -> str:
    """The key back from a Message-ID (the inverse of the documented mapping)."""
    left = mid[1:].rsplit("@", 1)[0]
    parts = []
    for part in left.split("."):
        if part == "=":
            parts.append("")
            continue
        raw = re.sub(rb"=([0-9A-F]{2})", lambda m: bytes([int(m[1], 16)]), part.encode())
        parts.append(raw.decode())
    return ":".join(parts)


# --- the Message-ID ----------------------------------------------------------


def test_message_id_keeps_a_plain_key_readable() -> None:
    assert message_id("1042:3:welcome-mail:1") == "<1042.3.welcome-mail.1@flowctl>"


def test_message_id_escapes_other_characters() -> None:
    assert message_id("a/b:c.d:=:") == "<a=2Fb.c=2Ed.=3D.=@flowctl>"


@given(st.text(max_size=40))
def test_message_id_is_valid_deterministic_and_reversible(key: str) -> None:
    mid = message_id(key)
    assert MSG_ID.fullmatch(mid)
    assert mid == message_id(key)
    assert unescape(mid) == key


# --- sending -----------------------------------------------------------------


def test_smtp_send_delivers_headers_and_parts(smtp_server: SmtpServer) -> None:
    payload = {
        "from": "Shop <shop@example.com>",
        "subject": "Welcome, Ann",
        "text": "Hello Ann",
        "html": "<p>Hello <b>Ann</b></p>",
        "headers": {"List-Unsubscribe": "<https://example.com/u/1>"},
    }
    with transport(smtp_server.port) as smtp:
        reference = smtp.send(out_message(payload=payload))
    assert reference == "OK"
    [got] = smtp_server.mailbox.received
    assert got.mail_from == "shop@example.com"
    assert got.rcpt_tos == ["ann@example.com"]
    mail = got.message
    assert mail["Message-ID"] == "<1042.3.welcome.1@flowctl>"
    assert mail["X-Flowctl-Key"] == "1042:3:welcome:1"
    assert mail["From"] == "Shop <shop@example.com>"
    assert mail["To"] == "ann@example.com"
    assert mail["Subject"] == "Welcome, Ann"
    assert mail["List-Unsubscribe"] == "<https://example.com/u/1>"
    assert mail["Date"].datetime == NOW
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and text.get_content().strip() == "Hello Ann"
    assert html is not None and html.get_content().strip() == "<p>Hello <b>Ann</b></p>"


def test_smtp_keeps_a_long_unsubscribe_url_readable_on_the_wire(smtp_server: SmtpServer) -> None:
    url = "https://track.example.com/u/" + "t0KeN" * 40  # a signed token: no spaces
    payload = {"subject": "Hi", "text": "Hello", "headers": {"List-Unsubscribe": f"<{url}>"}}
    with transport(smtp_server.port) as smtp:
        smtp.send(out_message(payload=payload))
    [got] = smtp_server.mailbox.received
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in got.raw  # not RFC 2047 words


def test_smtp_send_uses_the_configured_sender_and_plain_text(smtp_server: SmtpServer) -> None:
    with transport(smtp_server.port) as smtp:
        smtp.send(out_message(payload={"subject": "Hi", "text": "Grüße"}))
    [got] = smtp_server.mailbox.received
    assert got.mail_from == "news@example.com"
    assert got.message["From"] == "News <news@example.com>"
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content().strip() == "Grüße"


def test_smtp_message_id_is_the_same_on_every_send(smtp_server: SmtpServer) -> None:
    with transport(smtp_server.port) as smtp:
        smtp.send(out_message())
        smtp.send(out_message())
    first, second = smtp_server.mailbox.received
    assert (
        first.message["Message-ID"]
        == second.message["Message-ID"]
        == message_id("1042:3:welcome:1")
    )


def test_smtp_batch_reuses_one_connection(smtp_server: SmtpServer) -> None:
    with transport(smtp_server.port) as smtp:
        for n in range(3):
            smtp.send(out_message(key=f"1:1:s:{n}"))
    peers = {got.peer for got in smtp_server.mailbox.received}
    assert len(smtp_server.mailbox.received) == 3 and len(peers) == 1


def test_smtp_reconnects_when_the_server_dropped_the_connection(
    start_smtp: Callable[..., SmtpServer],
) -> None:
    first = start_smtp()
    with transport(first.port) as smtp:
        smtp.send(out_message(key="1:1:a:1"))
        first.stop()  # the open connection dies with it
        second = start_smtp(port=first.port)
        smtp.send(out_message(key="1:1:b:1"))
    assert [got.message["X-Flowctl-Key"] for got in second.mailbox.received] == ["1:1:b:1"]


def test_smtp_421_to_mail_on_a_reused_connection_reconnects(
    start_smtp: Callable[..., SmtpServer],
) -> None:
    server = start_smtp(mailbox=Mailbox(mail_answers=[None, "421 idle too long, closing"]))
    with transport(server.port) as smtp:
        smtp.send(out_message(key="1:1:a:1"))
        smtp.send(out_message(key="1:1:b:1"))
    first, second = server.mailbox.received
    assert second.message["X-Flowctl-Key"] == "1:1:b:1"
    assert first.peer != second.peer


def test_smtp_421_on_a_new_connection_is_temporary(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(mailbox=Mailbox(mail_answers=["421 too busy"]))
    with transport(server.port) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason == "SMTP 421 too busy"
    assert caught.value.permanent is False
    assert server.mailbox.received == []


def test_smtp_421_after_the_data_is_not_sent_again(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(mailbox=Mailbox(data_answer="421 shutting down"))
    with transport(server.port) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message(key="1:1:a:1"))
    assert caught.value.permanent is False
    assert "SMTP 421" in caught.value.reason
    assert len(server.mailbox.received) == 1


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [("450 mailbox busy, try later", False), ("550 mailbox unavailable", True)],
)
def test_smtp_refused_recipient(
    start_smtp: Callable[..., SmtpServer], answer: str, permanent: bool
) -> None:
    server = start_smtp(mailbox=Mailbox(answers={"gone@example.com": answer}))
    with transport(server.port) as smtp:
        with pytest.raises(DeliveryError) as caught:
            smtp.send(out_message(to="gone@example.com"))
        smtp.send(out_message())  # the connection is still good for the next
    assert caught.value.reason == f"SMTP {answer}"
    assert caught.value.permanent is permanent
    assert [got.rcpt_tos for got in server.mailbox.received] == [["ann@example.com"]]


def test_smtp_refused_data_is_permanent(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(mailbox=Mailbox(data_answer="554 message looks like spam"))
    with transport(server.port) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason == "SMTP 554 message looks like spam"
    assert caught.value.permanent is True


def test_smtp_authentication_required_is_temporary(start_smtp: Callable[..., SmtpServer]) -> None:
    server = start_smtp(mailbox=Mailbox(mail_answers=["530 5.7.0 Authentication required"]))
    with transport(server.port) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason == "SMTP 530 5.7.0 Authentication required"
    assert caught.value.permanent is False


def test_smtp_international_address_needs_smtputf8(start_smtp: Callable[..., SmtpServer]) -> None:
    plain, utf8 = start_smtp(enable_SMTPUTF8=False), start_smtp(enable_SMTPUTF8=True)
    with transport(plain.port) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message(to="jürgen@example.com"))
    assert caught.value.permanent is True and "non-ASCII" in caught.value.reason
    with transport(utf8.port) as smtp:
        smtp.send(out_message(to="jürgen@example.com"))
    assert utf8.mailbox.received[0].rcpt_tos == ["jürgen@example.com"]


# --- login and TLS -----------------------------------------------------------


def test_smtp_login_with_the_password_from_the_environment(
    start_smtp: Callable[..., SmtpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    server = start_smtp(auth=True)
    with transport(server.port, username=USER, password_env="TEST_SMTP_PASSWORD") as smtp:
        smtp.send(out_message())
    assert server.mailbox.received[0].login == USER.encode()


def test_smtp_wrong_password_is_a_clear_temporary_error(
    start_smtp: Callable[..., SmtpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    server = start_smtp(auth=True)
    smtp = transport(server.port, username=USER, password_env="TEST_SMTP_PASSWORD")
    with smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason.startswith(f"127.0.0.1:{server.port} refused the login: SMTP 535")
    assert caught.value.permanent is False
    assert server.mailbox.received == []


def test_smtp_username_without_auth_offered(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    smtp = transport(smtp_server.port, username=USER, password_env="TEST_SMTP_PASSWORD")
    with smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    where = f"127.0.0.1:{smtp_server.port}"
    assert caught.value.reason == f"{where} does not offer AUTH ([email] username)"


def test_smtp_password_variable_unset_stops_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(InputError, match=r"\$TEST_SMTP_PASSWORD"):
        transport(2525, username=USER, password_env="TEST_SMTP_PASSWORD")
    with pytest.raises(InputError, match="no password_env"):
        transport(2525, username=USER)


def test_smtp_starttls_required_but_not_offered(smtp_server: SmtpServer) -> None:
    with transport(smtp_server.port, starttls=True) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason == (
        f"127.0.0.1:{smtp_server.port} does not offer STARTTLS ([email] starttls)"
    )
    assert smtp_server.mailbox.received == []


def test_smtp_starttls_with_a_trusted_certificate(
    start_smtp: Callable[..., SmtpServer], certificate: Certificate
) -> None:
    server = start_smtp(tls=certificate.server_context(), require_starttls=True)
    config = email_config(server.port, starttls=True)
    with SmtpTransport(config, ssl_context=certificate.client_context()) as smtp:
        smtp.send(out_message())
    assert server.mailbox.received[0].tls is True


def test_smtp_starttls_with_an_untrusted_certificate(
    start_smtp: Callable[..., SmtpServer], certificate: Certificate
) -> None:
    server = start_smtp(tls=certificate.server_context())
    with transport(server.port, starttls=True) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason.startswith(f"TLS with 127.0.0.1:{server.port} failed:")
    assert "certificate" in caught.value.reason
    assert server.mailbox.received == []


# --- the connection ----------------------------------------------------------


def test_smtp_connection_refused_is_temporary() -> None:
    port = free_port()
    with transport(port) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason == f"connection refused to 127.0.0.1:{port}"
    assert caught.value.permanent is False


def test_smtp_silent_server_times_out(silent_port: int) -> None:
    with transport(silent_port, timeout=0.2) as smtp, pytest.raises(DeliveryError) as caught:
        smtp.send(out_message())
    assert caught.value.reason == f"no answer from 127.0.0.1:{silent_port} within 0.2s"
    assert caught.value.permanent is False


# --- composing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"to": None}, "the e-mail has no recipient"),
        ({"payload": {"subject": "x\r\nBcc: eve@example.com"}}, "cannot build the e-mail"),
        ({"payload": {"headers": {"Message-ID": "<x@y>"}}}, "the header Message-ID is set by"),
        ({"payload": {"headers": ["List-Id"]}}, "the e-mail's headers are not a mapping"),
    ],
)
def test_compose_refuses_a_bad_payload(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        compose(out_message(**changes), "news@example.com", NOW)
    assert caught.value.reason.startswith(reason)
    assert caught.value.permanent is True


def test_compose_without_any_sender() -> None:
    with pytest.raises(DeliveryError, match="no sender") as caught:
        compose(out_message(), None, NOW)
    assert caught.value.permanent is True
