"""E-mail over SMTP: ``[email] transport = "smtp"``.

One connection is opened on the first send and reused for the rest of the
batch (STARTTLS and login once); :meth:`SmtpTransport.close` ends it. When
a server has dropped a reused connection (an idle timeout, a ``421``), the
message is sent again over a new one, but only when the server had not yet
accepted any part of it, so a reconnect never sends an e-mail twice.

Replies map to :class:`DeliveryError` like this: a ``4xx`` reply, a timeout
or a lost connection is temporary; a ``5xx`` reply to the message (sender,
recipient or content refused) is permanent, except ``530`` (authentication
required), which is about the session. Failures of the connection itself
(refused, no STARTTLS, TLS or login failed) are not the message's fault
either: they are temporary, however the server words them, so that fixing
the server or the configuration lets the queued messages go.
"""

from __future__ import annotations

import smtplib
import ssl
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Final

from flowctl.channels.base import DeliveryError, Transport
from flowctl.clock import now as clock_now
from flowctl.config import EmailConfig
from flowctl.errors import InputError
from flowctl.store.records import OutMessage

MESSAGE_ID_DOMAIN: Final = "flowctl"
"""The right-hand side of every Message-ID flowctl writes."""

_SAFE: Final = frozenset(string.ascii_letters + string.digits + "-_")
_RESERVED: Final = frozenset(
    {"from", "to", "subject", "date", "message-id", "x-flowctl-key"}
    | {"mime-version", "content-type", "content-transfer-encoding"}
)
"""Headers flowctl writes itself; a mailing's ``headers`` may not set them."""


def message_id(key: str, domain: str = MESSAGE_ID_DOMAIN) -> str:
    """The Message-ID of the e-mail whose idempotency key is ``key``.

    Each ``:``-separated part of the key is kept as it is when made of ASCII
    letters, digits, ``-`` and ``_``; any other character becomes ``=`` and
    two upper-case hex digits per UTF-8 byte (``/`` → ``=2F``, ``.`` → ``=2E``,
    ``=`` → ``=3D``); an empty part becomes a lone ``=``. The parts are
    joined with ``.``: ``1042:3:welcome:1`` gives ``<1042.3.welcome.1@flowctl>``.

    The result is an RFC 5322 ``msg-id`` (its left side a dot-atom), the same
    for the same key every time, different for different keys, and the key
    can be read back from it.
    """
    parts = ("".join(map(_escape, part)) or "=" for part in key.split(":"))
    return f"<{'.'.join(parts)}@{domain}>"


def _escape(char: str) -> str:
    return char if char in _SAFE else "".join(f"={byte:02X}" for byte in char.encode())


def compose(message: OutMessage, sender: str | None, date: datetime) -> EmailMessage:
    """The e-mail for ``message``: headers from its payload, text and optional HTML.

    ``sender`` is the From used when the payload has no ``from``; ``date``
    (aware) is the Date header. Raises a
    permanent :class:`DeliveryError` when the payload cannot make an e-mail
    (no recipient or sender, a header with a line break, a reserved header).
    """
    payload = message.payload
    headers = payload.get("headers") or {}
    from_ = payload.get("from") or sender
    if not message.to:
        raise DeliveryError("the e-mail has no recipient", permanent=True)
    if not from_:
        raise DeliveryError("the e-mail has no sender: set [email] sender", permanent=True)
    if not isinstance(headers, Mapping):
        raise DeliveryError("the e-mail's headers are not a mapping", permanent=True)
    mail = EmailMessage()
    try:
        mail["From"] = str(from_)
        mail["To"] = message.to
        mail["Subject"] = str(payload.get("subject") or "")
        mail["Date"] = format_datetime(date)
        mail["Message-ID"] = message_id(message.key)
        mail["X-Flowctl-Key"] = message.key
        for name, value in headers.items():
            if str(name).lower() in _RESERVED:
                raise DeliveryError(f"the header {name} is set by flowctl", permanent=True)
            mail[str(name)] = str(value)
        mail.set_content(str(payload.get("text") or ""))
        if payload.get("html"):
            mail.add_alternative(str(payload["html"]), subtype="html")
    except (ValueError, TypeError) as exc:
        raise DeliveryError(f"cannot build the e-mail: {exc}", permanent=True) from exc
    return mail


_ASCII = policy.SMTP.clone(max_line_length=998)
"""Headers folded only past SMTP's line limit: a folding policy of 78 columns writes a
long unbroken value (the List-Unsubscribe URL) as RFC 2047 encoded words, which
mail providers do not read as a URL."""
_UTF8 = policy.SMTPUTF8.clone(max_line_length=998)


class SmtpTransport(Transport):
    """Sends e-mails to the SMTP server of ``[email]``.

    ``ssl_context`` verifies the server's certificate for STARTTLS (default:
    the system's trusted CAs, host name checked). The password is read from
    ``$password_env`` when the transport is built, so a missing secret stops
    the daemon at start-up (:class:`~flowctl.errors.InputError`), not at the
    first send. ``clock`` gives the Date of each e-mail (default: the
    command line's clock, which honours ``FLOWCTL_NOW``).
    """

    channel = "email"

    def __init__(
        self,
        config: EmailConfig,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = clock_now,
    ) -> None:
        if config.username is not None and config.password_env is None:
            raise InputError(
                "[email] username is set but no password_env names its password",
                hint='add password_env = "FLOWCTL_SMTP_PASSWORD" and set that variable',
            )
        self.config = config
        self._password = config.password() if config.username is not None else None
        self._ssl_context = ssl_context
        self._clock = clock
        self._smtp: smtplib.SMTP | None = None
        self._where = f"{config.host}:{config.port}"

    def send(self, message: OutMessage) -> str | None:
        """Send ``message`` as an e-mail; return the server's reply to the data (its queue id)."""
        mail = compose(message, self.config.sender, self._clock())
        sender = parseaddr(str(mail["From"]))[1]
        recipient = parseaddr(str(message.to))[1]
        if not sender or not recipient:
            bad = "sender" if not sender else "recipient"
            raise DeliveryError(f"the {bad} is not an e-mail address", permanent=True)
        fresh = self._smtp is None
        while True:
            smtp = self._smtp or self._connect()
            try:
                return self._transact(smtp, sender, recipient, mail)
            except _Dropped as drop:
                self._drop()
                if fresh or not drop.untouched:
                    raise DeliveryError(drop.reason) from drop
                fresh = True

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                smtp.close()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        timeout = self.config.timeout
        try:
            smtp = smtplib.SMTP(self.config.host, self.config.port, timeout=timeout)
        except smtplib.SMTPConnectError as exc:
            raise DeliveryError(f"{self._where} refused the connection: {_said(exc)}") from exc
        except OSError as exc:
            raise DeliveryError(_lost(exc, self._where, timeout, "cannot connect to")) from exc
        try:
            self._start(smtp)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _start(self, smtp: smtplib.SMTP) -> None:
        """EHLO, then STARTTLS and login as configured."""
        config, where = self.config, self._where
        try:
            smtp.ehlo()
            if config.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{where} does not offer STARTTLS ([email] starttls)")
                smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if config.username is not None:
                if not smtp.has_extn("auth"):
                    raise DeliveryError(f"{where} does not offer AUTH ([email] username)")
                smtp.login(config.username, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where} refused the login: {_said(exc)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"{_said(exc)} from {where}") from exc
        except ssl.SSLError as exc:
            detail = getattr(exc, "verify_message", None) or exc.reason or exc
            raise DeliveryError(f"TLS with {where} failed: {detail}") from exc
        except OSError as exc:  # smtplib.SMTPException is one
            raise DeliveryError(_lost(exc, where, config.timeout, "SMTP failed with")) from exc

    def _transact(self, smtp: smtplib.SMTP, sender: str, to: str, mail: EmailMessage) -> str | None:
        """One MAIL, RCPT, DATA exchange; a refusal resets the connection for the next."""
        ascii_only = sender.isascii() and to.isascii()
        if not ascii_only and not smtp.has_extn("smtputf8"):
            raise DeliveryError(f"{self._where} does not accept non-ASCII addresses", True)
        options = [] if ascii_only else ["SMTPUTF8", "BODY=8BITMIME"]
        data = mail.as_bytes(policy=_ASCII if ascii_only else _UTF8)
        untouched = True
        reply: bytes | str
        try:
            code, reply = smtp.mail(sender, options)
            if code == 250:
                code, reply = smtp.rcpt(to)
            if code in (250, 251):
                untouched = False
                code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:  # DATA refused before any content was sent
            code, reply = exc.smtp_code, exc.smtp_error
        except OSError as exc:  # smtplib.SMTPServerDisconnected is one
            reason = _lost(exc, self._where, self.config.timeout, "SMTP failed with")
            raise _Dropped(reason, untouched) from exc
        if code == 250:
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
            return text.strip() or None
        reason = _reply(code, reply)
        if code == 421:  # the server is closing the connection
            raise _Dropped(reason, untouched)
        self._reset(smtp)
        # 530 (authentication or STARTTLS required) is about the session, not the message
        raise DeliveryError(reason, permanent=code >= 500 and code != 530)

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


class _Dropped(DeliveryError):
    """The connection broke; ``untouched`` when the server had accepted nothing yet."""

    def __init__(self, reason: str, untouched: bool) -> None:
        super().__init__(reason)
        self.untouched = untouched


def _reply(code: int, text: bytes | str) -> str:
    """``SMTP 550 mailbox unavailable``: a server reply on one line."""
    words = (text.decode(errors="replace") if isinstance(text, bytes) else text).split()
    return " ".join(["SMTP", str(code), *words])[:300]


def _said(exc: smtplib.SMTPResponseException) -> str:
    return _reply(exc.smtp_code, exc.smtp_error)


def _lost(exc: OSError, where: str, timeout: float, failed: str) -> str:
    """The reason for a failure below SMTP: refused, silent, closed, or ``failed`` where."""
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused to {where}"
    # smtplib reports a read that timed out as a disconnection
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return f"no answer from {where} within {timeout:g}s"
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError):
        return f"{where} closed the connection"
    return f"{failed} {where}: {exc.strerror or exc}"
