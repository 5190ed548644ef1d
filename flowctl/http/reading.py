"""Reading requests: the bearer token, the content type, a bounded body, JSON and forms.

Each check raises :class:`Problem` with the status and a message that says
what is wrong and how to send it right; :func:`problem_response` renders it
as ``{"error": …, "hint": …}``. Checks run cheapest first: the token before
the body is read, the declared length before it is received.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, NoReturn
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

MAX_BODY: Final = 1024 * 1024
"""Bytes a request body may have (``413`` above)."""

MAX_FIELDS: Final = 200
"""Fields a form post may have."""

JSON: Final = "application/json"
FORM: Final = "application/x-www-form-urlencoded"


class Problem(Exception):
    """A request answered with an error ``status``; ``message`` says why."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.headers = dict(headers or {})


def problem_response(problem: Problem) -> Response:
    """The JSON error response for ``problem``."""
    body: dict[str, str] = {"error": problem.message}
    if problem.hint:
        body["hint"] = problem.hint
    return json_response(problem.status, body, headers=problem.headers)


def json_response(status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> Response:
    """``body`` as compact UTF-8 JSON."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status, headers=dict(headers or {}), media_type=JSON)


def check_bearer(request: Request, tokens: Iterable[str]) -> None:
    """``401`` unless ``Authorization: Bearer TOKEN`` names one of ``tokens``."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="flowctl"'}
    if scheme.lower() != "bearer" or not given.strip():
        raise Problem(
            401,
            "this endpoint needs a bearer token",
            hint="send Authorization: Bearer TOKEN with the token in [http] token_env",
            headers=challenge,
        )
    presented = given.strip().encode()
    # compare with every token, so the time taken does not say which one was close
    matches = [hmac.compare_digest(presented, token.encode()) for token in tokens]
    if not any(matches):
        raise Problem(401, "the bearer token is not valid", headers=challenge)


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters (``""`` when none)."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def require_type(request: Request, *allowed: str) -> str:
    """The media type, when it is one of ``allowed``; ``415`` otherwise."""
    kind = media_type(request)
    if kind not in allowed:
        sent = f"'{kind}'" if kind else "no Content-Type"
        raise Problem(
            415, f"{sent} is not accepted here", hint=f"send Content-Type: {' or '.join(allowed)}"
        )
    return kind


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The whole body; ``413`` when it is (or is declared) longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """The JSON document in ``body``; ``400`` saying where it stops being JSON."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise Problem(400, "the body is not UTF-8 text", hint="send JSON in UTF-8") from exc
    except json.JSONDecodeError as exc:
        message = f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise Problem(400, message) from exc
    except (ValueError, RecursionError) as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}") from exc


def parse_form(body: bytes) -> dict[str, Any]:
    """An urlencoded form: a field given more than once becomes a list of its values."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError as exc:
        raise Problem(400, "the form is not UTF-8 text", hint="send the form in UTF-8") from exc
    except ValueError as exc:
        raise Problem(413, f"a form may have at most {MAX_FIELDS} fields") from exc
    fields: dict[str, Any] = {}
    for name, value in pairs:
        held = fields.get(name)
        if held is None:
            fields[name] = value
        elif isinstance(held, list):
            held.append(value)
        else:
            fields[name] = [held, value]
    return fields


def _too_large(limit: int) -> NoReturn:
    raise Problem(
        413,
        f"the body is larger than {limit:,} bytes",
        hint="send fewer events per request",
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
