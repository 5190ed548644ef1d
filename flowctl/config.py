"""Channel and daemon settings: the file ``flowctl.toml``.

The file is ``--config FILE``, else ``$FLOWCTL_CONFIG``, else ``flowctl.toml``
in the current directory if there is one; without a file every default below
applies. Every table is optional, and so is every key but
``messages_per_contact``; an unknown table or key is an error, for a misspelt
key must not silently fall back to its default. All keys, with their defaults
where they have one::

    [email]
    transport = "outbox"       # "outbox": kept in the store, nothing leaves; or "smtp"
    host = "localhost"         # the SMTP keys; ignored by "outbox"
    port = 587
    starttls = true
    username = "flows@example.com"
    password_env = "FLOWCTL_SMTP_PASSWORD"   # the variable that holds the password
    sender = "News <news@example.com>"       # default From of mailings
    timeout = 10.0             # seconds

    [sms]                      # absent: a flow that sends SMS cannot be activated
    transport = "outbox"       # or "webhook"
    url = "https://sms.example.com/send"     # required by "webhook"
    headers = { X-Account = "acme" }         # sent with every request; no secrets

    [daemon]
    tick = "1s"                # how often the daemon looks for due work
    batch_size = 500           # participants handled per tick
    delivery_attempts = 5      # tries of a failing send before it is given up
    retry_backoff = "30s"      # wait before a failed send is tried again

    [limits]                   # absent: no frequency cap
    messages_per_contact = 3   # e-mails and SMS to one contact, across all flows ...
    per = "1d"                 # ... in this window; the rest wait, none is dropped

    [http]                     # the built-in HTTP server
    host = "127.0.0.1"
    port = 8080
    base_url = "https://flows.example.com"
    token_env = "FLOWCTL_HTTP_TOKEN"
    secret_env = "FLOWCTL_HTTP_SECRET"
    redirects = ["https://www.example.com/"]

Durations are written as in flows: ``30s``, ``5m``, ``1d12h``, ``PT30S``.
Secrets are never written in the file, only the name of the environment
variable that holds them (``password_env``, ``token_env``, ``secret_env``).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from flowctl.engine import Limits
from flowctl.errors import InputError, InvalidValue, UsageError
from flowctl.timeutil import parse_duration

ENV_VAR = "FLOWCTL_CONFIG"
DEFAULT_NAME = "flowctl.toml"

_PORT = {"max": 65535}
_URL = {"url": True}


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """``[email]``: how e-mails leave (or stay in the store's outbox)."""

    transport: Literal["outbox", "smtp"] = "outbox"
    host: str = "localhost"
    port: int = field(default=587, metadata=_PORT)
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None
    sender: str | None = None
    timeout: float = 10.0

    def password(self) -> str | None:
        """The SMTP password from ``$password_env``; None when no variable is named.

        Raises :class:`InputError` when the variable is unset or empty (CI
        systems give an empty string for a secret they do not have).
        """
        if self.password_env is None:
            return None
        value = os.environ.get(self.password_env)
        if not value:
            raise InputError(
                f"the SMTP password is read from ${self.password_env}, which is not set",
                hint=f"set {self.password_env}, or remove password_env from [email]",
            )
        return value


@dataclass(frozen=True, slots=True)
class SmsConfig:
    """``[sms]``: how SMS leave; ``url`` is set when the transport is a webhook."""

    transport: Literal["outbox", "webhook"] = "outbox"
    url: str | None = field(default=None, metadata=_URL)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """``[daemon]``: the pace of ``flowctl daemon``."""

    tick: timedelta = timedelta(seconds=1)
    batch_size: int = 500
    delivery_attempts: int = 5
    retry_backoff: timedelta = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """``[http]``: the built-in HTTP server; secrets named by environment variable."""

    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=_PORT)
    base_url: str | None = field(default=None, metadata=_URL)
    token_env: str | None = None
    secret_env: str | None = None
    redirects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _LimitsTable:
    """``[limits]`` as written; becomes the engine's :class:`Limits`."""

    messages_per_contact: int
    per: timedelta = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole file; ``path`` is the file read, None when defaults apply."""

    email: EmailConfig = field(default_factory=EmailConfig)
    sms: SmsConfig | None = None
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    limits: Limits | None = None
    http: HttpConfig | None = None
    path: Path | None = None

    @classmethod
    def default(cls) -> Config:
        """Every default: e-mail to the outbox, no SMS, no cap, no HTTP server."""
        return cls()


_TABLES: dict[str, type] = {
    "email": EmailConfig,
    "sms": SmsConfig,
    "daemon": DaemonConfig,
    "limits": _LimitsTable,
    "http": HttpConfig,
}
"""Every table of the file and the dataclass whose fields are its keys."""

_SECRETS = {"password": "password_env", "token": "token_env", "secret": "secret_env"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KINDS: dict[Any, tuple[type | tuple[type, ...], str, str]] = {
    str: (str, "a string", 'write it in quotes: {key} = "..."'),
    str | None: (str, "a string", 'write it in quotes: {key} = "..."'),
    int: (int, "a whole number", "write it without quotes: {key} = 5"),
    float: ((int, float), "a number", "write it without quotes: {key} = 10.0"),
    bool: (bool, "true or false", "write {key} = true or {key} = false"),
    timedelta: (str, "a duration", 'for example {key} = "30s", in quotes'),
    tuple[str, ...]: (list, "a list of strings", '{key} = ["...", "..."]'),
    dict[str, str]: (dict, "a table of strings", '{key} = { Name = "value" }'),
}
"""For each field type: the TOML value it takes, its name, and a hint."""


def load_config(path: str | Path | None = None, *, cwd: Path | None = None) -> Config:
    """Read the configuration: ``path``, else ``$FLOWCTL_CONFIG``, else ``./flowctl.toml``.

    A relative path is taken from ``cwd`` (default: the current directory).
    A file that is named but missing is a :class:`UsageError`; a file that
    cannot be used is an :class:`InputError` saying where and how to fix it.
    """
    base = cwd if cwd is not None else Path.cwd()
    named = path if path is not None else os.environ.get(ENV_VAR) or None
    if named is None:
        found = base / DEFAULT_NAME
        return parse_config(_read(found), found) if found.is_file() else Config.default()
    file = base / named
    if not file.exists():
        origin = "--config" if path is not None else f"${ENV_VAR}"
        raise UsageError(
            f"configuration file {named} does not exist",
            where=origin,
            hint=f"create it, or leave out {origin} to use ./{DEFAULT_NAME} or the defaults",
        )
    return parse_config(_read(file), file)


def parse_config(data: Mapping[str, Any], path: Path | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML; ``path`` only labels errors."""
    file = str(path) if path is not None else DEFAULT_NAME
    _check_keys(data, list(_TABLES), file, "table")
    parts: dict[str, Any] = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            hint = f"write [{name}] on a line of its own and its keys below"
            raise InputError(f"'{name}' must be a table", where=file, hint=hint)
        parts[name] = _build(_TABLES[name], table, f"{file}: [{name}]")
    sms = parts.get("sms")
    if sms is not None and sms.transport == "webhook" and sms.url is None:
        hint = 'add url = "https://..." to [sms]'
        raise InputError("the webhook transport needs a url", where=f"{file}: [sms] url", hint=hint)
    if "limits" in parts:
        parts["limits"] = Limits(parts["limits"].messages_per_contact, parts["limits"].per)
    return Config(**parts, path=path)


def _read(file: Path) -> dict[str, Any]:
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the configuration: {exc.strerror}", where=str(file)) from exc
    except UnicodeDecodeError as exc:
        raise InputError("the configuration is not UTF-8 text", where=str(file)) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"at line (\d+)", str(exc))
        raise InputError(
            f"not valid TOML: {exc}",
            where=f"{file}:{line.group(1)}" if line else str(file),
            hint='write key = "value" lines under [table] headers such as [email]',
        ) from exc


def _check_keys(data: Mapping[str, Any], allowed: Sequence[str], where: str, what: str) -> None:
    for key in data:
        if key in allowed:
            continue
        if _SECRETS.get(key) in allowed:
            hint = f'put it in an environment variable and name that: {_SECRETS[key]} = "VAR"'
            message = f"'{key}' is a secret, and secrets are not written in the file"
            raise InputError(message, where=f"{where} {key}", hint=hint)
        close = difflib.get_close_matches(key, allowed, n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        hint = f"{guess}allowed: {', '.join(allowed)}"
        raise InputError(f"unknown {what} '{key}'", where=where, hint=hint)


def _build(cls: Any, table: Mapping[str, Any], where: str) -> Any:
    """An instance of dataclass ``cls`` from the keys of ``table`` (defaults for the rest)."""
    known = fields(cls)
    _check_keys(table, [f.name for f in known], where, "key")
    hints = get_type_hints(cls)
    values = {}
    for f in known:
        if f.name in table:
            values[f.name] = _value(f.name, table[f.name], hints[f.name], f.metadata, where)
        elif f.default is MISSING and f.default_factory is MISSING:
            hint = f"add {f.name} = ..."
            raise InputError(f"{f.name} is required", where=f"{where} {f.name}", hint=hint)
    return cls(**values)


def _value(key: str, value: Any, hint: Any, rules: Mapping[str, Any], where: str) -> Any:
    """``value`` checked against the field's type and rules, converted where needed."""

    def bad(message: str, fix: str) -> InputError:
        return InputError(message, where=f"{where} {key}", hint=fix.replace("{key}", key))

    if get_origin(hint) is Literal:
        choices = [str(choice) for choice in get_args(hint)]
        if value not in choices:
            close = difflib.get_close_matches(str(value), choices, n=1)
            guess = f"did you mean '{close[0]}'? " if close else ""
            raise bad(f"unknown {key} {value!r}", f"{guess}use one of {', '.join(choices)}")
        return value
    kind, what, fix = _KINDS[hint]
    if not _is_kind(value, kind, hint):
        raise bad(f"{value!r} is not {what}", fix)
    if hint is timedelta:
        try:
            value = parse_duration(value)
        except InvalidValue as exc:
            raise bad(exc.message, fix) from exc
        if value <= timedelta(0):
            raise bad("a duration here must be longer than 0s", fix)
    elif hint is int and (value < 1 or value > rules.get("max", value)):
        top = f" and at most {rules['max']}" if "max" in rules else ""
        raise bad(f"{value} is out of range", f"it must be at least 1{top}")
    elif hint is float and value <= 0:
        raise bad(f"{value} is out of range", "it must be greater than 0")
    elif kind in (list, dict):
        items = value.values() if isinstance(value, dict) else value
        if not all(isinstance(item, str) for item in items):
            raise bad(f"{value!r} is not {what}", fix)
        value = tuple(value) if kind is list else dict(value)
    elif key.endswith("_env") and not _ENV_NAME.fullmatch(value):
        fix = "write the name of the variable (e.g. FLOWCTL_SECRET), not its value"
        raise bad(f"{value!r} is not the name of an environment variable", fix)
    elif rules.get("url") and not value.startswith(("https://", "http://")):
        raise bad(f"{value!r} is not a URL", "it must start with https:// or http://")
    return value


def _is_kind(value: Any, kind: type | tuple[type, ...], hint: Any) -> bool:
    # bool is a subclass of int, but `port = true` is a mistake
    return isinstance(value, kind) and (hint is bool or not isinstance(value, bool))
