"""Channels: how the messages of the outbox leave, after commit.

The daemon claims queued :class:`~flowctl.store.records.OutMessage` rows,
hands each to the :class:`Transport` of its channel and records the outcome
in the store; transports themselves never touch the store.
:func:`transports_for` builds the transports ``flowctl.toml`` asks for:

- ``email``: :class:`OutboxTransport` (``transport = "outbox"``, the
  default: the message is kept in the store) or :class:`SmtpTransport`;
- ``sms``: :class:`OutboxTransport`, or :class:`WebhookTransport` posting
  to ``[sms] url``;
- ``webhook`` (the action): always :class:`WebhookTransport`.

A send returns a provider reference (or None) or raises
:class:`DeliveryError`; a temporary failure is tried again after
:func:`backoff`, at most :data:`MAX_ATTEMPTS` times in all::

    transports = transports_for(config)
    try:
        reference = transports[message.channel].send(message)
    except DeliveryError as error:
        ...  # record error.reason; give up if error.permanent, else retry later
    finally:
        for transport in transports.values():
            transport.close()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowctl.channels.base import (
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    DeliveryError,
    OutboxTransport,
    Transport,
    backoff,
)
from flowctl.channels.smtp import SmtpTransport, compose, message_id
from flowctl.channels.webhook import DEFAULT_TIMEOUT, WebhookTransport

if TYPE_CHECKING:
    from flowctl.config import Config

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_ATTEMPTS",
    "MAX_BACKOFF",
    "DeliveryError",
    "OutboxTransport",
    "SmtpTransport",
    "Transport",
    "WebhookTransport",
    "backoff",
    "compose",
    "message_id",
    "transports_for",
]


def transports_for(config: Config) -> dict[str, Transport]:
    """The transport of each channel (``email``, ``sms``, ``webhook``) that ``config`` asks for.

    Nothing connects yet. Without ``[sms]`` SMS go to the outbox (activation
    already refuses flows that send SMS then). Raises
    :class:`~flowctl.errors.InputError` when the SMTP password's variable is
    not set. The caller closes the transports when done.
    """
    email: Transport
    if config.email.transport == "smtp":
        email = SmtpTransport(config.email)
    else:
        email = OutboxTransport("email")
    sms: Transport = OutboxTransport("sms")
    if config.sms is not None and config.sms.transport == "webhook":
        sms = WebhookTransport(config.sms.url, config.sms.headers)
    return {"email": email, "sms": sms, "webhook": WebhookTransport()}
