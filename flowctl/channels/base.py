"""The transport interface: how a message of the outbox leaves.

The engine queues messages in the same transaction as the participant's
advance (transactional outbox); after commit the daemon hands each queued
:class:`~flowctl.store.records.OutMessage` to the :class:`Transport` of its
channel and records the outcome. A transport never touches the store.

A send either returns (the message is out: the daemon marks it sent) or
raises :class:`DeliveryError`. ``permanent`` says whether trying again can
help: a refused mailbox or an HTTP 404 will not change, a full queue, a
timeout or a refused connection may. The daemon retries the others after
:func:`backoff` until :data:`MAX_ATTEMPTS` tries have failed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import timedelta
from types import TracebackType
from typing import Final, Self

from flowctl.config import DaemonConfig
from flowctl.errors import FlowctlError
from flowctl.store.records import OutMessage

MAX_ATTEMPTS: Final = DaemonConfig().delivery_attempts
"""Tries of a failing send before it is given up (``[daemon] delivery_attempts``)."""

MAX_BACKOFF: Final = timedelta(hours=1)
"""The longest wait :func:`backoff` gives between two tries (unless ``base`` is longer)."""


class DeliveryError(FlowctlError):
    """A message could not be delivered; ``permanent`` when retrying cannot help.

    ``reason`` is one line a person understands, e.g. ``SMTP 550 mailbox
    unavailable``, ``connection refused to localhost:2525`` or ``HTTP 503
    from https://sms.example.com/send``; the daemon stores it with the message.
    """

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"DeliveryError({self.reason!r}, permanent={self.permanent})"


def backoff(attempts: int, base: timedelta) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: ``base · 2^(attempts-1)``.

    Capped at :data:`MAX_BACKOFF` (one hour), or at ``base`` itself when a
    longer ``retry_backoff`` is configured; ``attempts`` below 1 counts as 1.
    """
    limit = max(base, MAX_BACKOFF)
    # in float seconds: base · 2^n soon overflows a timedelta, long after the cap
    seconds = base.total_seconds() * 2.0 ** min(max(attempts, 1) - 1, 64)
    return min(timedelta(seconds=min(seconds, limit.total_seconds())), limit)


class Transport(ABC):
    """Sends the messages of one channel (``email``, ``sms`` or ``webhook``).

    A transport may keep a connection open across the sends of a batch;
    :meth:`close` releases it and may be called any number of times. It is
    also a context manager that closes on exit. One transport is used by one
    thread at a time.
    """

    channel: str
    """The channel this transport was built for."""
    keeps: bool = False
    """Whether delivery is keeping the message in the store, nothing leaving it: the
    store then marks such messages delivered itself, a batch at a time
    (:meth:`~flowctl.store.runtime.RuntimeStore.keep_messages`); others are sent and
    recorded one by one."""

    @abstractmethod
    def send(self, message: OutMessage) -> str | None:
        """Deliver ``message``; return the provider's reference for it, or None.

        Raises :class:`DeliveryError` when it could not be delivered (and
        nothing else for a delivery failure). Sending the same message twice
        delivers it twice: de-duplication is the outbox's job, though the
        idempotency key travels with the message so that a receiver can
        recognise a repeat (the e-mail's Message-ID, the webhook's
        ``Idempotency-Key`` header).
        """

    def close(self) -> None:  # noqa: B027 - a no-op default, not an abstract method
        """Release connections; safe to call more than once and before any send."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class OutboxTransport(Transport):
    """Delivery by keeping: the message stays in the store's outbox, nothing leaves.

    The default for e-mail and SMS (``transport = "outbox"``): :meth:`send`
    does nothing and returns None, and the caller marks the message sent.
    """

    keeps = True

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, message: OutMessage) -> str | None:
        """Nothing to do: the outbox row is the delivery."""
        return None
