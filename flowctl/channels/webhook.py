"""HTTP delivery: the ``webhook`` action, and SMS through a provider's HTTP API.

A message of channel ``webhook`` is the action's call: ``message.to`` is the
URL, the payload's ``method`` (default ``POST``), ``headers`` and ``body``
say what to send; a mapping or list body goes as JSON, a string as
``text/plain``. A message of channel ``sms`` (``[sms] transport =
"webhook"``) is POSTed to the configured ``url`` as JSON ``{"to": phone,
"text": ..., "key": key}``. Every request carries the idempotency key in an
``Idempotency-Key`` header, so a receiver can recognise a repeat.

Outcomes: a 2xx status is delivered. 408, 429, 5xx, timeouts and
connection failures are temporary. Any other 4xx is permanent, and so is a
redirect: it is never followed (it could lead to another host), and the
error names where it pointed. Only ``http`` and ``https`` URLs are called.
Error messages name the URL without its query or credentials, which may
hold secrets.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from http.client import HTTPException
from typing import IO, Any, Final
from urllib.parse import urlsplit

from flowctl import __version__
from flowctl.channels.base import DeliveryError, Transport
from flowctl.store.records import OutMessage

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds to wait for a connection and for each read of the answer."""

_USER_AGENT: Final = f"flowctl/{__version__}"
_READ_LIMIT: Final = 64 * 1024


class WebhookTransport(Transport):
    """Calls webhooks, and sends SMS to ``url`` when one is given.

    ``headers`` go with every SMS request to ``url`` (and nowhere else: they
    may identify the account); ``timeout`` is in seconds. Without ``url``
    the transport is the webhook action's (``channel`` ``webhook``) and
    refuses SMS; with one it still calls webhooks, as the action's would.
    """

    def __init__(
        self,
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.channel = "sms" if url else "webhook"
        self._opener = urllib.request.build_opener(_NoRedirect())

    def send(self, message: OutMessage) -> str | None:
        """Make the request; return the ``id`` of a JSON object answer, else None."""
        body: bytes | None
        if message.channel == "sms":
            url, method, body, headers = self._sms(message)
        elif message.channel == "webhook":
            url, method, body, headers = _call(message)
        else:
            raise DeliveryError(
                f"a webhook cannot send a message of channel {message.channel}", permanent=True
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or _port(url) == -1:
            raise DeliveryError(f"not an http(s) URL: {_shown(url)}", permanent=True)
        headers = {"User-Agent": _USER_AGENT, **headers, "Idempotency-Key": message.key}
        headers.update(_mapping(message.payload.get("headers"), "headers"))
        try:
            request = urllib.request.Request(url, data=body, headers=headers, method=method)
            return self._open(request)
        except ValueError as exc:  # a header or URL http.client refuses
            raise DeliveryError(f"cannot call {_shown(url)}: {exc}", permanent=True) from exc

    def _sms(self, message: OutMessage) -> tuple[str, str, bytes, dict[str, str]]:
        if not self.url:
            raise DeliveryError("SMS over webhook needs [sms] url", permanent=True)
        body = {"to": message.to, "text": message.payload.get("text"), "key": message.key}
        return self.url, "POST", _json(body), {"Content-Type": "application/json", **self.headers}

    def _open(self, request: urllib.request.Request) -> str | None:
        where = _shown(request.full_url)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                try:
                    answer = response.read(_READ_LIMIT)
                except (HTTPException, OSError):  # the status already says it arrived
                    answer = b""
                return _reference(answer)
        except urllib.error.HTTPError as exc:
            raise _status_error(exc, where) from exc
        except urllib.error.URLError as exc:
            raise _network_error(exc.reason, request, self.timeout) from exc
        except (HTTPException, OSError) as exc:
            raise _network_error(exc, request, self.timeout) from exc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turns every redirect into an :class:`~urllib.error.HTTPError`."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def _call(message: OutMessage) -> tuple[str, str, bytes | None, dict[str, str]]:
    """URL, method, body and content type of the webhook action's request."""
    payload = message.payload
    if not message.to:
        raise DeliveryError("the webhook has no URL", permanent=True)
    method = str(payload.get("method") or "POST").upper()
    body = payload.get("body")
    if body is None:
        return message.to, method, None, {}
    if isinstance(body, str):
        return message.to, method, body.encode(), {"Content-Type": "text/plain; charset=utf-8"}
    return message.to, method, _json(body), {"Content-Type": "application/json"}


def _json(value: Any) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise DeliveryError(f"the body cannot be sent as JSON: {exc}", permanent=True) from exc


def _mapping(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DeliveryError(f"the webhook's {what} are not a mapping", permanent=True)
    return {str(name): str(item) for name, item in value.items()}


def _reference(answer: bytes) -> str | None:
    """The ``id`` of a JSON object answer (the provider's message id), else None."""
    try:
        data = json.loads(answer)
    except ValueError:
        return None
    ref = data.get("id") if isinstance(data, dict) else None
    return str(ref) if isinstance(ref, str | int) and not isinstance(ref, bool) else None


def _status_error(exc: urllib.error.HTTPError, where: str) -> DeliveryError:
    """The error for a non-2xx answer; its body's first line helps a person see why."""
    try:
        detail = exc.read(300).decode(errors="replace").strip().splitlines()
    except (HTTPException, OSError):
        detail = []
    finally:
        exc.close()
    code = exc.code
    if 300 <= code < 400:
        location = exc.headers.get("Location", "nowhere")
        return DeliveryError(
            f"HTTP {code} from {where} redirects to {_shown(location)}; not followed",
            permanent=True,
        )
    reason = f"HTTP {code} from {where}" + (f": {detail[0][:200]}" if detail else "")
    return DeliveryError(reason, permanent=not (code in (408, 429) or code >= 500))


def _network_error(
    cause: BaseException | str, request: urllib.request.Request, timeout: float
) -> DeliveryError:
    """A temporary error for a failure below HTTP (DNS, connection, TLS, timeout)."""
    parts = urlsplit(request.full_url)
    port = _port(request.full_url) or (443 if parts.scheme == "https" else 80)
    host = f"{parts.hostname}:{port}"
    if isinstance(cause, ConnectionRefusedError):
        return DeliveryError(f"connection refused to {host}")
    if isinstance(cause, TimeoutError):
        return DeliveryError(f"no answer from {_shown(request.full_url)} within {timeout:g}s")
    text = getattr(cause, "strerror", None) or getattr(cause, "reason", None) or cause
    return DeliveryError(f"cannot reach {host}: {text or type(cause).__name__}")


def _shown(url: str) -> str:
    """``url`` without credentials, query and fragment, which may hold secrets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{_port(url)}" if (_port(url) or 0) > 0 else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else parts.path


def _port(url: str) -> int | None:
    """The URL's port; None when it has none, -1 when it is not a number."""
    try:
        return urlsplit(url).port
    except ValueError:
        return -1
