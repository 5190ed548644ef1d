"""``POST /v1/events`` and ``POST /v1/forms/{form}``: events in, through the same
:func:`~flowctl.operate.intake.ingest_events` as ``flowctl event ingest``.

Events: a JSON object (one event) or array (at most :data:`MAX_EVENTS`), each
of the shape of spec §11. The answer is ``202`` with ``received``,
``added``, ``duplicates`` (an ``id`` recorded before) and ``rejected``
(``[{"index", "reason"}]``); the good items are kept whatever the bad ones
are. When every item is rejected the answer is ``422``.

Forms: urlencoded or JSON fields. ``email`` is required; it finds the
contact (created when new), and ``first_name``, ``last_name``, ``phone``,
``company``, ``country`` and ``timezone`` update it. Nothing else a form
says reaches the contact — a public form must not unsubscribe, re-subscribe
or tag anyone. ``form_submitted`` is recorded with every field as ``data``
and ``data.form`` the form's name. ``_redirect`` (a field, or the
``redirect`` query parameter) sends the browser on with ``303`` to a
thank-you page, only one listed in ``[http] redirects``; without it the
answer is ``202`` with JSON.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from flowctl import clock
from flowctl.http.context import context
from flowctl.http.reading import (
    FORM,
    JSON,
    MAX_FIELDS,
    Problem,
    check_bearer,
    json_response,
    parse_form,
    parse_json,
    read_body,
    require_type,
)
from flowctl.load.records import Record
from flowctl.operate.intake import IngestResult, ingest_events

MAX_EVENTS: Final = 1000
"""Events one request may carry."""

PROFILE: Final = ("first_name", "last_name", "phone", "company", "country", "timezone")
"""The contact fields a form post may set, besides ``email``."""

FORM_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


async def post_events(request: Request) -> Response:
    """Record one event or an array of events."""
    ctx = context(request)
    check_bearer(request, ctx.settings.tokens)
    require_type(request, JSON)
    items = parse_json(await read_body(request))
    if isinstance(items, dict):
        items = [items]
    elif not isinstance(items, list):
        raise Problem(400, "the body must be an event (a JSON object) or an array of events")
    if len(items) > MAX_EVENTS:
        raise Problem(413, f"{len(items)} events in one request; at most {MAX_EVENTS} are taken")
    records = [
        Record(i, item) if isinstance(item, dict) else Record(i, None, "not a JSON object")
        for i, item in enumerate(items)
    ]
    result = await _ingest(request, records)
    ctx.metrics.received["api"] += result.added
    ctx.metrics.rejected["api"] += len(result.rejected)
    body = {
        "received": len(items),
        "added": result.added,
        "duplicates": result.duplicates,
        "rejected": [{"index": r.line, "reason": r.reason} for r in result.rejected],
    }
    everything_rejected = bool(items) and len(result.rejected) == len(items)
    return json_response(422 if everything_rejected else 202, body)


async def post_form(request: Request) -> Response:
    """Record ``form_submitted`` for a website form and upsert its contact."""
    ctx = context(request)
    form = request.path_params["form"]
    if not FORM_NAME.fullmatch(form):
        raise Problem(404, f"'{form}' is not a form name", hint="letters, digits, '-', '_', '.'")
    kind = require_type(request, FORM, JSON)
    body = await read_body(request)
    fields = parse_form(body) if kind == FORM else parse_json(body)
    if not isinstance(fields, dict):
        raise Problem(400, "a JSON form post must be an object of fields")
    if len(fields) > MAX_FIELDS:  # as for an urlencoded form
        raise Problem(413, f"a form may have at most {MAX_FIELDS} fields")
    redirect = fields.pop("_redirect", None) or request.query_params.get("redirect")
    if redirect is not None and not _allowed(redirect, ctx.settings.http.redirects):
        raise Problem(
            400,
            f"redirecting to {redirect!r} is not allowed",
            hint="list the thank-you page in [http] redirects in flowctl.toml",
        )
    email = fields.get("email")
    if email is None or email == "":
        raise Problem(422, "the form has no 'email' field", hint="add an input named email")
    if not isinstance(email, str) or not email.strip():
        given = "a list of values" if isinstance(email, list) else f"{email!r:.40}"
        raise Problem(422, f"the form's 'email' must be one e-mail address, not {given}")
    contact: dict[str, Any] = {"email": email}
    contact.update((k, fields[k]) for k in PROFILE if isinstance(fields.get(k), str))
    data = {k: v for k, v in fields.items() if not k.startswith("_")}
    data["form"] = form
    event = {"type": "form_submitted", "contact": contact, "data": data}
    result = await _ingest(request, [Record(0, event)])
    if result.rejected:
        ctx.metrics.rejected["form"] += 1
        raise Problem(422, f"the form cannot be recorded: {result.rejected[0].reason}")
    ctx.metrics.received["form"] += 1
    if redirect is not None:
        return RedirectResponse(redirect, status_code=303)
    return json_response(202, {"form": form, "added": result.added})


async def _ingest(request: Request, records: list[Record]) -> IngestResult:
    ctx = context(request)
    now = clock.now()
    user = ctx.settings.user
    return await ctx.store.run(lambda store: ingest_events(store, records, now, user=user))


def _allowed(url: Any, allowed: tuple[str, ...]) -> bool:
    """Is ``url`` listed, or under a listed URL that ends with ``/`` (no ``..`` leading
    out of it)?"""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return False
    # As a browser reads the path: %2e is a dot, a backslash a slash.
    path = unquote(urlsplit(url).path).replace("\\", "/")
    if {".", ".."} & set(path.split("/")):
        return False
    return any(url == base or (base.endswith("/") and url.startswith(base)) for base in allowed)
