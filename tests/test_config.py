"""flowctl.toml: defaults, the documented examples, and one clear error per mistake."""

from __future__ import annotations

import re
import textwrap
from dataclasses import fields
from datetime import timedelta
from itertools import takewhile
from pathlib import Path

import pytest

import flowctl.config
from flowctl.config import (
    Config,
    DaemonConfig,
    EmailConfig,
    HttpConfig,
    SmsConfig,
    load_config,
)
from flowctl.engine import Limits
from flowctl.errors import InputError, UsageError

SPEC_EXAMPLE = """\
[email]
transport = "outbox"        # default: messages are kept in the store, nothing leaves
# transport = "smtp"
# host = "localhost"; port = 587; starttls = true
# username = "..."; password_env = "FLOWCTL_SMTP_PASSWORD"
[sms]
transport = "outbox"        # or "webhook" with url = "..."
[daemon]
tick = "1s"
batch_size = 500
[limits]
messages_per_contact = 3    # e-mails and SMS to one contact, across all flows ...
per = "1d"                  # ... in this window; the rest wait, none is dropped
"""
"""The example of docs/spec cli.md, section Channels, verbatim."""


@pytest.fixture(autouse=True)
def _no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWCTL_CONFIG", raising=False)


def write(tmp_path: Path, text: str, name: str = "flowctl.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> InputError:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    return caught.value


def test_load_config_without_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path)

    assert config == Config.default()
    assert config.path is None
    assert config.email == EmailConfig(transport="outbox", host="localhost", port=587)
    assert config.email.starttls and config.email.timeout == 10.0
    assert config.sms is None and config.limits is None and config.http is None
    assert config.daemon == DaemonConfig(
        tick=timedelta(seconds=1),
        batch_size=500,
        delivery_attempts=5,
        retry_backoff=timedelta(seconds=30),
    )


def test_load_config_spec_example_parses(tmp_path: Path) -> None:
    path = write(tmp_path, SPEC_EXAMPLE)

    config = load_config(cwd=tmp_path)

    assert config.path == path
    assert config.email.transport == "outbox"
    assert config.sms == SmsConfig(transport="outbox", url=None, headers={})
    assert config.daemon.tick == timedelta(seconds=1)
    assert config.daemon.batch_size == 500
    assert config.limits == Limits(messages=3, per=timedelta(days=1))


def test_load_config_module_docstring_example_parses(tmp_path: Path) -> None:
    doc = flowctl.config.__doc__ or ""
    lines = doc.split("::\n", 1)[1].splitlines()
    block = takewhile(lambda line: not line or line.startswith("    "), lines)
    path = write(tmp_path, "\n".join(block))

    config = load_config(path)

    assert config.email == EmailConfig(
        transport="outbox",
        host="localhost",
        port=587,
        starttls=True,
        username="flows@example.com",
        password_env="FLOWCTL_SMTP_PASSWORD",
        sender="News <news@example.com>",
        timeout=10.0,
    )
    assert config.sms == SmsConfig("outbox", "https://sms.example.com/send", {"X-Account": "acme"})
    assert config.daemon == DaemonConfig()
    assert config.limits == Limits(3, timedelta(days=1))
    assert config.http == HttpConfig(
        host="127.0.0.1",
        port=8080,
        base_url="https://flows.example.com",
        token_env="FLOWCTL_HTTP_TOKEN",
        secret_env="FLOWCTL_HTTP_SECRET",
        redirects=("https://www.example.com/",),
    )


def test_load_config_module_docstring_names_every_key() -> None:
    doc = flowctl.config.__doc__ or ""
    tables = {"email": EmailConfig, "sms": SmsConfig, "daemon": DaemonConfig, "http": HttpConfig}
    keys = {table: [f.name for f in fields(cls)] for table, cls in tables.items()}
    keys["limits"] = ["messages_per_contact", "per"]
    for table, names in keys.items():
        assert f"\n    [{table}]" in doc
        for name in names:
            assert re.search(rf"^    {name} = ", doc, re.MULTILINE), name


def test_load_config_durations_and_limits_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        [daemon]
        tick = "PT0.5S"
        retry_backoff = "1m30s"
        [limits]
        messages_per_contact = 1
        """,
    )

    config = load_config(cwd=tmp_path)

    assert config.daemon.tick == timedelta(milliseconds=500)
    assert config.daemon.retry_backoff == timedelta(seconds=90)
    assert config.limits == Limits(1, timedelta(days=1))


def test_load_config_env_var_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "[daemon]\nbatch_size = 7\n")
    other = write(tmp_path, "[daemon]\nbatch_size = 9\n", name="other.toml")
    monkeypatch.setenv("FLOWCTL_CONFIG", str(other))

    assert load_config(cwd=tmp_path).daemon.batch_size == 9
    assert load_config(cwd=tmp_path).path == other


def test_load_config_explicit_path_beats_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWCTL_CONFIG", str(tmp_path / "missing.toml"))
    write(tmp_path, "[daemon]\nbatch_size = 7\n", name="given.toml")

    assert load_config("given.toml", cwd=tmp_path).daemon.batch_size == 7


def test_load_config_relative_path_is_taken_from_cwd(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    write(tmp_path, "[sms]\n", name="conf/channels.toml")

    config = load_config("conf/channels.toml", cwd=tmp_path)

    assert config.sms == SmsConfig()
    assert config.path == tmp_path / "conf" / "channels.toml"


def test_load_config_missing_named_file_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_config("nope.toml", cwd=tmp_path)

    assert caught.value.exit_code == 2
    assert "nope.toml does not exist" in str(caught.value)
    assert "--config" in str(caught.value)


def test_load_config_missing_env_file_is_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWCTL_CONFIG", "gone.toml")

    with pytest.raises(UsageError, match=r"\$FLOWCTL_CONFIG: configuration file gone.toml"):
        load_config(cwd=tmp_path)


def test_load_config_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[email]\ntransport = "smtp\n')

    assert error.where is not None and error.where.endswith("flowctl.toml:2")
    assert "not valid TOML" in error.message and "line 2" in error.message


def test_load_config_non_utf8_file_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "flowctl.toml"
    path.write_bytes(b'[email]\nsender = "\xff"\n')

    with pytest.raises(InputError, match="not UTF-8"):
        load_config(path)


def test_load_config_unknown_table_suggests_the_right_one(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[limit]\nmessages_per_contact = 3\n")

    assert "unknown table 'limit'" in error.message
    assert error.where == str(tmp_path / "flowctl.toml")
    assert error.hint is not None
    assert "did you mean 'limits'?" in error.hint
    assert "email, sms, daemon, limits, http" in error.hint


def test_load_config_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    error = load_error(tmp_path, "[daemon]\nbatchsize = 100\n")

    assert error.message == "unknown key 'batchsize'"
    assert error.where == f"{tmp_path / 'flowctl.toml'}: [daemon]"
    assert error.hint is not None
    assert "did you mean 'batch_size'?" in error.hint
    assert "tick, batch_size, delivery_attempts, retry_backoff" in error.hint


def test_load_config_unknown_top_level_key_is_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, 'tick = "1s"\n')

    assert "unknown table 'tick'" in error.message


def test_load_config_section_that_is_not_a_table_is_error(tmp_path: Path) -> None:
    error = load_error(tmp_path, 'email = "smtp"\n')

    assert "'email' must be a table" in str(error)
    assert error.hint is not None and "[email]" in error.hint


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ('[email]\npassword = "hunter2"\n', "[email] password", 'password_env = "VAR"'),
        ('[http]\ntoken = "abc"\n', "[http] token", 'token_env = "VAR"'),
    ],
)
def test_load_config_secret_in_file_points_to_env(
    tmp_path: Path, text: str, where: str, fragment: str
) -> None:
    error = load_error(tmp_path, text)

    assert "secrets are not written in the file" in error.message
    assert error.where == f"{tmp_path / 'flowctl.toml'}: {where}"
    assert error.hint is not None and fragment in error.hint


@pytest.mark.parametrize(
    ("text", "where", "fragments"),
    [
        ('[email]\ntransport = "smpt"\n', "[email] transport", ["'smpt'", "did you mean 'smtp'"]),
        ('[sms]\ntransport = "http"\n', "[sms] transport", ["use one of outbox, webhook"]),
        ('[email]\nport = "abc"\n', "[email] port", ["'abc' is not a whole number", "port = 5"]),
        ("[email]\nport = 70000\n", "[email] port", ["70000 is out of range", "at most 65535"]),
        ("[email]\nport = true\n", "[email] port", ["True is not a whole number"]),
        ('[email]\nstarttls = "yes"\n', "[email] starttls", ["not true or false"]),
        ("[email]\ntimeout = -1\n", "[email] timeout", ["greater than 0"]),
        ("[email]\nhost = 5\n", "[email] host", ["5 is not a string", "in quotes"]),
        ('[email]\npassword_env = "s3cret!"\n', "[email] password_env", ["not its value"]),
        ("[daemon]\nbatch_size = 0\n", "[daemon] batch_size", ["0 is out of range", "at least 1"]),
        ("[daemon]\ndelivery_attempts = 2.5\n", "[daemon] delivery_attempts", ["whole number"]),
        ('[daemon]\ntick = "soon"\n', "[daemon] tick", ["'soon' is not a duration", '"30s"']),
        ("[daemon]\ntick = 1\n", "[daemon] tick", ["1 is not a duration", "in quotes"]),
        ('[daemon]\nretry_backoff = "0s"\n', "[daemon] retry_backoff", ["longer than 0s"]),
        ('[sms]\ntransport = "webhook"\n', "[sms] url", ["needs a url"]),
        ('[sms]\nurl = "sms.example.com"\n', "[sms] url", ["not a URL", "https://"]),
        ("[sms]\nheaders = { X-Id = 1 }\n", "[sms] headers", ["not a table of strings"]),
        ('[limits]\nper = "1h"\n', "[limits] messages_per_contact", ["is required"]),
        ("[limits]\nmessages_per_contact = 0\n", "[limits] messages_per_contact", ["at least 1"]),
        ('[http]\nredirects = "https://x/"\n', "[http] redirects", ["not a list of strings"]),
        ("[http]\nredirects = [1]\n", "[http] redirects", ["not a list of strings"]),
    ],
)
def test_load_config_wrong_value_names_table_and_key(
    tmp_path: Path, text: str, where: str, fragments: list[str]
) -> None:
    error = load_error(tmp_path, text)

    assert error.where == f"{tmp_path / 'flowctl.toml'}: {where}"
    assert error.hint
    for fragment in fragments:
        assert fragment in str(error)


def test_password_reads_the_named_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWCTL_SMTP_PASSWORD", "s3cret")

    assert EmailConfig(password_env="FLOWCTL_SMTP_PASSWORD").password() == "s3cret"


def test_password_is_none_without_password_env() -> None:
    assert EmailConfig().password() is None


@pytest.mark.parametrize("value", [None, ""])
def test_password_unset_env_var_is_input_error(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("FLOWCTL_SMTP_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("FLOWCTL_SMTP_PASSWORD", value)

    with pytest.raises(InputError) as caught:
        EmailConfig(password_env="FLOWCTL_SMTP_PASSWORD").password()

    assert "$FLOWCTL_SMTP_PASSWORD" in caught.value.message
    assert caught.value.hint is not None and "set FLOWCTL_SMTP_PASSWORD" in caught.value.hint
