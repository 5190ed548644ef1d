"""The contract every Transport keeps, run against each implementation.

Also :func:`transports_for` (which transport each channel gets) and the
retry arithmetic (:func:`backoff`, :data:`MAX_ATTEMPTS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from flowctl.channels import (
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    DeliveryError,
    OutboxTransport,
    SmtpTransport,
    Transport,
    WebhookTransport,
    backoff,
    transports_for,
)
from flowctl.config import Config, DaemonConfig, EmailConfig, SmsConfig
from flowctl.errors import FlowctlError
from flowctl.store.records import OutMessage
from tests.channels.conftest import (
    HttpServer,
    SmtpServer,
    email_config,
    free_port,
    out_message,
)


@dataclass
class Case:
    """A transport, a message it delivers, and ways to make it fail.

    ``delivered`` counts what reached the server (None for the outbox);
    ``broken`` is the same kind of transport aimed where nothing listens;
    ``rejected`` a message it refuses for good. Both are None for the outbox,
    which cannot fail.
    """

    transport: Transport
    message: OutMessage
    delivered: Callable[[], int] | None
    broken: Transport | None = None
    rejected: OutMessage | None = None


def _outbox(channel: str) -> Callable[[pytest.FixtureRequest], Case]:
    return lambda request: Case(OutboxTransport(channel), out_message(channel), None)


def _smtp(request: pytest.FixtureRequest) -> Case:
    server: SmtpServer = request.getfixturevalue("smtp_server")
    return Case(
        SmtpTransport(email_config(server.port)),
        out_message("email"),
        lambda: len(server.mailbox.received),
        SmtpTransport(email_config(free_port())),
        out_message("email", to=None),
    )


def _webhook(request: pytest.FixtureRequest) -> Case:
    server: HttpServer = request.getfixturevalue("http_server")
    return Case(
        WebhookTransport(),
        out_message("webhook", to=f"{server.url}/hook"),
        lambda: len(server.requests),
        WebhookTransport(),
        out_message("webhook", to="file:///etc/passwd"),
    )


def _sms_webhook(request: pytest.FixtureRequest) -> Case:
    server: HttpServer = request.getfixturevalue("http_server")
    return Case(
        WebhookTransport(f"{server.url}/send"),
        out_message("sms"),
        lambda: len(server.requests),
        WebhookTransport(f"http://127.0.0.1:{free_port()}/send"),
        out_message("sms", payload={"text": object()}),
    )


CASES: dict[str, Callable[[pytest.FixtureRequest], Case]] = {
    "outbox-email": _outbox("email"),
    "outbox-sms": _outbox("sms"),
    "smtp": _smtp,
    "webhook": _webhook,
    "sms-webhook": _sms_webhook,
}
"""Every transport; a new one is added here and must pass every test below."""


FAILING = [name for name in CASES if not name.startswith("outbox")]
"""The transports that can fail (the outbox cannot)."""


def _built(request: pytest.FixtureRequest) -> Iterator[Case]:
    built = CASES[request.param](request)
    yield built
    built.transport.close()
    if built.broken is not None:
        built.broken.close()


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    yield from _built(request)


@pytest.fixture(params=FAILING)
def failing(request: pytest.FixtureRequest) -> Iterator[Case]:
    yield from _built(request)


def _broken_message(case: Case) -> OutMessage:
    if case.message.channel == "webhook":  # the action's URL is in the message
        return out_message("webhook", to=f"http://127.0.0.1:{free_port()}/hook")
    return case.message


# --- delivery ----------------------------------------------------------------


def test_transport_is_a_transport_of_a_known_channel(case: Case) -> None:
    assert isinstance(case.transport, Transport)
    assert case.transport.channel == case.message.channel


def test_transport_send_returns_a_reference_or_none(case: Case) -> None:
    reference = case.transport.send(case.message)
    assert reference is None or (isinstance(reference, str) and reference)


def test_transport_sends_a_batch_and_again_after_close(case: Case) -> None:
    case.transport.send(case.message)
    case.transport.send(case.message)
    case.transport.close()
    case.transport.send(case.message)
    if case.delivered is not None:
        assert case.delivered() == 3


def test_transport_close_is_idempotent(case: Case) -> None:
    case.transport.close()  # before any send
    case.transport.send(case.message)
    case.transport.close()
    case.transport.close()


def test_transport_is_a_context_manager(case: Case) -> None:
    with case.transport as transport:
        assert transport is case.transport
        transport.send(case.message)


# --- failure -----------------------------------------------------------------


def _assert_shape(error: DeliveryError, permanent: bool) -> None:
    assert isinstance(error, FlowctlError)
    assert isinstance(error.reason, str) and error.reason.strip()
    assert "\n" not in error.reason
    assert str(error) == error.reason
    assert error.permanent is permanent


def test_transport_unreachable_is_a_temporary_delivery_error(failing: Case) -> None:
    assert failing.broken is not None
    with pytest.raises(DeliveryError) as caught:
        failing.broken.send(_broken_message(failing))
    _assert_shape(caught.value, permanent=False)
    failing.broken.close()
    failing.broken.close()


def test_transport_refused_message_is_a_permanent_delivery_error(failing: Case) -> None:
    assert failing.rejected is not None
    with pytest.raises(DeliveryError) as caught:
        failing.transport.send(failing.rejected)
    _assert_shape(caught.value, permanent=True)
    failing.transport.send(failing.message)  # a refusal does not spoil the transport


# --- transports_for ----------------------------------------------------------


def test_transports_for_the_defaults_keeps_messages_in_the_outbox() -> None:
    transports = transports_for(Config.default())
    assert set(transports) == {"email", "sms", "webhook"}
    assert isinstance(transports["email"], OutboxTransport)
    assert isinstance(transports["sms"], OutboxTransport)
    assert isinstance(transports["webhook"], WebhookTransport)
    assert transports["webhook"].url is None
    assert {name: t.channel for name, t in transports.items()} == {
        name: name for name in transports
    }


def test_transports_for_smtp_and_sms_webhook() -> None:
    config = Config(
        email=EmailConfig(transport="smtp", host="mail.example.com", port=2525),
        sms=SmsConfig(transport="webhook", url="https://sms.example.com/send", headers={"A": "b"}),
    )
    transports = transports_for(config)
    email, sms = transports["email"], transports["sms"]
    assert isinstance(email, SmtpTransport) and email.config.port == 2525
    assert isinstance(sms, WebhookTransport)
    assert sms.url == "https://sms.example.com/send"
    assert (sms.headers, sms.channel) == ({"A": "b"}, "sms")


def test_transports_for_sms_outbox() -> None:
    transports = transports_for(Config(sms=SmsConfig()))
    assert isinstance(transports["sms"], OutboxTransport)


# --- retries -----------------------------------------------------------------


def test_max_attempts_is_the_configured_default() -> None:
    assert MAX_ATTEMPTS == DaemonConfig().delivery_attempts == 5


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 30), (1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (9, 3600), (10_000, 3600)],
)
def test_backoff_doubles_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert backoff(attempts, timedelta(seconds=30)) == timedelta(seconds=seconds)


def test_backoff_longer_than_the_cap_stays_as_configured() -> None:
    assert timedelta(hours=1) == MAX_BACKOFF
    assert backoff(1, timedelta(hours=2)) == timedelta(hours=2)
    assert backoff(50, timedelta(hours=2)) == timedelta(hours=2)
