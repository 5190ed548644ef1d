"""``/t/o/{token}``, ``/t/c/{token}`` and ``/u/{token}``: opens, clicks, unsubscribes.

A token this server did not sign (forged, altered, cut short, or of another
kind) gets ``404`` and nothing is recorded. A good one records, for the
contact the e-mail went to:

- an open: ``email_opened`` with ``data`` ``{mailing, flow, step, message}``,
  answered with a 1x1 GIF that is not cached;
- a click: ``email_link_clicked`` with the same and ``url``, answered with
  ``302`` to that URL (only the URL signed into the token: no open redirect);
- an unsubscribe (``POST``, RFC 8058 one-click): the contact's
  ``unsubscribed`` set to true, recorded as ``contact_updated`` with
  ``data.set``, so ``exit_when`` and success criteria see it, and audited.
  ``GET`` only shows a page with the button that posts, for mail scanners
  follow links and must not unsubscribe anyone.

Replays: opens and clicks are recorded at most once per token per day (UTC)
— the event's ``id`` is ``open:DIGEST:DAY`` or ``click:DIGEST:DAY`` — so
reloading an image or a page does not pile up events while a click on
another day still counts. An unsubscribe is recorded once. Recording never
stands between a reader and the page: when the store fails, the pixel is
still served and the click still redirects (the failure is logged). A
``HEAD`` request (link checkers) is answered the same and records nothing.
"""

from __future__ import annotations

import base64
import html
import logging
from datetime import UTC, datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from flowctl import clock
from flowctl.http.context import context
from flowctl.http.reading import Problem, read_body
from flowctl.http.tokens import CLICK, OPEN, UNSUBSCRIBE, Kind, Tracked, digest
from flowctl.operate.rights import audit
from flowctl.store import NewEvent, Store

log = logging.getLogger("flowctl.http")

PIXEL: Final = base64.b64decode(b"R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
"""A transparent 1x1 GIF."""

NO_STORE: Final = {"Cache-Control": "no-store, max-age=0"}


async def open_pixel(request: Request) -> Response:
    """Record ``email_opened`` and serve the pixel."""
    tracked = _verify(request, OPEN)
    if request.method == "GET":  # a HEAD (a link checker) records nothing
        await _record(request, tracked, "email_opened", "open")
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


async def click(request: Request) -> Response:
    """Record ``email_link_clicked`` and redirect to the link's URL."""
    tracked = _verify(request, CLICK)
    url = tracked.url or ""
    if not url.lower().startswith(("https://", "http://")):
        raise Problem(404, "this link is not known")
    if request.method == "GET":
        await _record(request, tracked, "email_link_clicked", "click")
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


async def unsubscribe_page(request: Request) -> Response:
    """A page with one button that unsubscribes (nothing changes on ``GET``)."""
    _verify(request, UNSUBSCRIBE)
    return _page(
        "Unsubscribe",
        "<p>Press the button to stop receiving these e-mails.</p>"
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>',
    )


async def unsubscribe(request: Request) -> Response:
    """Unsubscribe the contact the e-mail went to (RFC 8058 one-click ``POST``)."""
    tracked = _verify(request, UNSUBSCRIBE)
    await read_body(request)  # "List-Unsubscribe=One-Click"; bounded, otherwise unused
    ctx = context(request)
    now = clock.now()
    user = ctx.settings.user
    changed = await ctx.store.run(lambda store: _unsubscribe(store, tracked, now, user))
    if changed:
        ctx.metrics.received["unsubscribe"] += 1
    return _page(
        "Unsubscribed", "<p>You are unsubscribed and will get no more of these e-mails.</p>"
    )


def _verify(request: Request, kind: Kind) -> Tracked:
    tracked = context(request).signer.verify(request.path_params["token"], kind)
    if tracked is None:
        raise Problem(404, "this link is not known")
    return tracked


async def _record(request: Request, tracked: Tracked, type: str, source: str) -> None:
    ctx = context(request)
    now = clock.now()
    data: dict[str, Any] = {
        "mailing": tracked.mailing,
        "flow": tracked.flow,
        "step": tracked.step,
        "message": tracked.key,
    }
    if tracked.url is not None:
        data["url"] = tracked.url
    event_id = f"{source}:{digest(tracked)}:{now.astimezone(UTC).date().isoformat()}"
    event = NewEvent(tracked.cid, type, now, data, event_id)
    try:
        added = await ctx.store.run(lambda store: _add(store, event, now))
    except Exception:
        log.exception("recording %s of %s failed", type, tracked.key)
        return
    if added:
        ctx.metrics.received[source] += 1


def _add(store: Store, event: NewEvent, now: datetime) -> bool:
    """Record ``event`` unless its contact is gone; True when it is new."""
    if store.contact(event.cid) is None:
        return False
    return store.add_events([event], now) == 1


def _unsubscribe(store: Store, tracked: Tracked, now: datetime, user: str) -> bool:
    """Set ``unsubscribed`` and record it; False when there was nothing to change."""
    row = store.contact(tracked.cid)
    if row is None or row.data.get("unsubscribed") is True:
        return False
    store.update_contacts([(row.cid, {**row.data, "unsubscribed": True})], now)
    data = {"set": {"unsubscribed": True}, "via": "unsubscribe", "mailing": tracked.mailing}
    event_id = f"unsubscribe:{digest(tracked)}"
    store.add_events([NewEvent(row.cid, "contact_updated", now, data, event_id)], now)
    who = row.data.get("email") or f"id:{row.data.get('id')}"
    audit(store, user, "unsubscribe", f"contact/{who}", now, f"mailing {tracked.mailing}")
    return True


def _page(title: str, body: str) -> HTMLResponse:
    page = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{html.escape(title)}'
        '</title><meta name="viewport" content="width=device-width">'
        '<body style="font-family:sans-serif;max-width:32rem;margin:4rem auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(page, headers=NO_STORE)
