"""Tokens: signed, read back, and refused when forged, altered, cut short or misused;
the secrets they need are read from the environment or the server refuses to start."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowctl.config import HttpConfig
from flowctl.errors import InputError
from flowctl.http.tokens import Signer, Tracked, api_tokens, digest, signing_secret

MAIL = Tracked("o", "news/7/1772438400:1:first-mail:1", 7, "hello", "news", "first-mail")
SIGNER = Signer(b"s" * 32)


def test_tokens_round_trip() -> None:
    for tracked in (MAIL, MAIL.of("u"), MAIL.of("c", "https://shop.example/ø?a=1&b=2#x")):
        token = SIGNER.sign(tracked)
        assert SIGNER.verify(token, tracked.kind) == tracked
        assert set(token) <= set(string.ascii_letters + string.digits + "-_.")


def test_tokens_of_another_kind_or_secret_are_refused() -> None:
    token = SIGNER.sign(MAIL)
    assert SIGNER.verify(token, "c") is None
    assert SIGNER.verify(token, "u") is None
    assert Signer(b"t" * 32).verify(token, "o") is None


@given(st.integers(min_value=0, max_value=200), st.text(max_size=3))
def test_tokens_altered_or_truncated_are_refused(cut: int, noise: str) -> None:
    token = SIGNER.sign(MAIL.of("c", "https://shop.example/"))
    for bad in (token[:cut], token[:cut] + noise + token[cut + 1 :], token + noise):
        if bad != token:
            assert SIGNER.verify(bad, "c") is None


def test_digest_names_what_a_token_stands_for() -> None:
    assert digest(MAIL) == digest(MAIL)
    assert digest(MAIL) != digest(MAIL.of("c", "https://a.example/"))


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    http = HttpConfig(token_env="T_ENV", secret_env="S_ENV")
    monkeypatch.setenv("S_ENV", "x" * 16)
    monkeypatch.setenv("T_ENV", "old-token-0123456789, new-token-0123456789")
    assert signing_secret(http) == b"x" * 16
    assert api_tokens(http) == ("old-token-0123456789", "new-token-0123456789")


@pytest.mark.parametrize(
    ("http", "env", "says"),
    [
        (HttpConfig(), {}, "[http] secret_env is not set"),
        (HttpConfig(secret_env="S_ENV"), {}, "$S_ENV, which is not set"),
        (HttpConfig(secret_env="S_ENV"), {"S_ENV": "short"}, "too short"),
    ],
)
def test_missing_secret_is_a_clear_error(
    http: HttpConfig, env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("S_ENV", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InputError) as caught:
        signing_secret(http)
    assert says in str(caught.value)
    assert caught.value.hint


def test_missing_api_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_ENV", raising=False)
    with pytest.raises(InputError, match="token_env is not set"):
        api_tokens(HttpConfig())
    with pytest.raises(InputError, match=r"\$T_ENV, which is not set"):
        api_tokens(HttpConfig(token_env="T_ENV"))
