"""Signed tokens for tracked links, the open pixel and unsubscribe links.

A token names one e-mail (its outbox idempotency key), the contact it went
to, and for a click the URL the link leads to. It is
``base64url(payload) "." base64url(mac)``: the payload a compact JSON array
``[kind, key, cid, mailing, flow, step, url?]``, the mac the first 16 bytes
of HMAC-SHA256 over it with the secret from ``$secret_env``. Nothing is
stored per token: the server checks the mac and reads the payload back, so
no one can forge a click, unsubscribe someone else or use the click URL as
an open redirect, and a token that is altered or cut short is unknown (404).

Kinds: ``o`` an open pixel, ``c`` a tracked link, ``u`` an unsubscribe link;
a token of one kind is refused by the endpoints of the others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from typing import Final, Literal

from flowctl.config import HttpConfig
from flowctl.errors import InputError

Kind = Literal["o", "c", "u"]
OPEN: Final = "o"
CLICK: Final = "c"
UNSUBSCRIBE: Final = "u"

MIN_SECRET: Final = 16
"""Characters a signing secret or an API token must have at least."""

MAX_TOKEN: Final = 8192
"""A longer token is refused before any work is done."""

_MAC_BYTES: Final = 16
_CONTEXT: Final = b"flowctl-token-v1\n"
_B64: Final = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Tracked:
    """What a token stands for: an e-mail ``key`` sent to contact ``cid`` by a flow's
    step, and for a click the ``url`` of the link."""

    kind: Kind
    key: str
    cid: int
    mailing: str
    flow: str
    step: str
    url: str | None = None

    def of(self, kind: Kind, url: str | None = None) -> Tracked:
        """The same e-mail as a token of another ``kind`` (with the link's ``url``)."""
        return Tracked(kind, self.key, self.cid, self.mailing, self.flow, self.step, url)


class Signer:
    """Makes and checks tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, tracked: Tracked) -> str:
        """The token for ``tracked``."""
        fields: list[object] = [tracked.kind, tracked.key, tracked.cid, tracked.mailing]
        fields += [tracked.flow, tracked.step]
        if tracked.url is not None:
            fields.append(tracked.url)
        payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_encode(payload)}.{_encode(self._mac(payload))}"

    def verify(self, token: str, kind: Kind) -> Tracked | None:
        """What ``token`` stands for, if this secret signed it as a token of ``kind``;
        None for anything else (forged, altered, truncated, of another kind)."""
        if len(token) > MAX_TOKEN:
            return None
        body, _, mac = token.partition(".")
        payload = _decode(body)
        given = _decode(mac)
        if payload is None or given is None or not hmac.compare_digest(given, self._mac(payload)):
            return None
        return _tracked(payload, kind)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, _CONTEXT + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def digest(tracked: Tracked) -> str:
    """A short, stable name for what a token stands for (the ids of recorded events are
    built from it, so a replayed token is recognised however its text was spelt)."""
    fields = [tracked.kind, tracked.key, tracked.cid, tracked.url]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:24]


def signing_secret(http: HttpConfig) -> bytes:
    """The secret named by ``[http] secret_env``; :class:`InputError` when it is missing."""
    return _secret(http.secret_env, "secret_env", "tracked links and unsubscribe links")[0].encode()


def api_tokens(http: HttpConfig) -> tuple[str, ...]:
    """The bearer tokens ``POST /v1/events`` accepts: ``$token_env``, split at commas or
    spaces (several while a token is rotated); :class:`InputError` when none is set."""
    return _secret(http.token_env, "token_env", "the bearer token of POST /v1/events")


def _secret(env: str | None, key: str, used_for: str) -> tuple[str, ...]:
    example = "FLOWCTL_HTTP_SECRET" if key == "secret_env" else "FLOWCTL_HTTP_TOKEN"
    if env is None:
        raise InputError(
            f"[http] {key} is not set: {used_for} need a secret from the environment",
            hint=f'add {key} = "{example}" to [http] in flowctl.toml and set that variable',
        )
    values = tuple(v for v in re.split(r"[\s,]+", os.environ.get(env, "")) if v)
    if not values:
        raise InputError(
            f"{used_for} use the secret in ${env}, which is not set",
            hint=f"set {env} to a long random string, e.g. `openssl rand -hex 32`",
        )
    short = [v for v in values if len(v) < MIN_SECRET]
    if short:
        raise InputError(
            f"the secret in ${env} is too short ({len(short[0])} characters)",
            hint=f"use at least {MIN_SECRET} random characters, e.g. `openssl rand -hex 32`",
        )
    return values


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    """The bytes of a token's text; None unless it is the one spelling ``_encode`` writes
    (the last character's spare bits could spell the same bytes differently)."""
    if not _B64.fullmatch(text):
        return None
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if _encode(data) == text else None


def _tracked(payload: bytes, kind: Kind) -> Tracked | None:
    """The payload read back; None when it is not one this module wrote for ``kind``."""
    try:
        fields = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(fields, list) or len(fields) != (7 if kind == CLICK else 6):
        return None
    given, key, cid, mailing, flow, step, *url = fields
    if given != kind or not isinstance(cid, int) or isinstance(cid, bool):
        return None
    if not all(isinstance(v, str) for v in (key, mailing, flow, step, *url)):
        return None
    return Tracked(kind, key, cid, mailing, flow, step, url[0] if url else None)
