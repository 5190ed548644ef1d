"""Tracked links, the open pixel and unsubscribe headers, added when an e-mail is rendered.

With ``[http] base_url`` configured, the daemon renders every e-mail through
:meth:`Tracker.track`: each ``http(s)`` link in the HTML (``<a href>``) and
in the text becomes ``BASE/t/c/TOKEN``, a 1x1 image ``BASE/t/o/TOKEN`` is
added to the HTML, and the headers ``List-Unsubscribe: <BASE/u/TOKEN>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058) are set.
A Mailing with ``tracking: false`` keeps its links and gets no pixel; the
unsubscribe headers are added all the same, for every e-mail must offer one.
Other schemes (``mailto:``, ``tel:``, ``#anchors``) are never rewritten.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, Final

from flowctl.config import Config
from flowctl.http.tokens import CLICK, OPEN, UNSUBSCRIBE, Signer, Tracked, signing_secret

_HREF: Final = re.compile(
    r"""(<a\b[^>]*?\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s>"'`=<]+))""", re.IGNORECASE
)
_TEXT_URL: Final = re.compile(r"""https?://[^\s<>"'\[\]{}|\\^`]+""", re.IGNORECASE)
_BODY_END: Final = re.compile(r"</body\s*>", re.IGNORECASE)
_TRAILING: Final = ".,;:!?'\")"


class Tracker:
    """Rewrites rendered e-mails for the server at ``base_url``, signing with ``signer``."""

    def __init__(self, base_url: str, signer: Signer) -> None:
        self.base = base_url.rstrip("/")
        self.signer = signer

    def track(
        self, payload: Mapping[str, Any], mail: Tracked, *, links: bool = True
    ) -> dict[str, Any]:
        """``payload`` (``subject``, ``text``, ``html`` …) with the unsubscribe headers, and
        with tracked links and the open pixel unless ``links`` is False."""
        out = dict(payload)
        headers = dict(out.get("headers") or {})
        headers["List-Unsubscribe"] = f"<{self.url(mail.of(UNSUBSCRIBE))}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        out["headers"] = headers
        if links:
            if isinstance(out.get("html"), str):
                out["html"] = self.html(out["html"], mail)
            if isinstance(out.get("text"), str):
                out["text"] = self.text(out["text"], mail)
        return out

    def url(self, tracked: Tracked) -> str:
        """The server's URL for a token: ``/t/o/…``, ``/t/c/…`` or ``/u/…``."""
        path = "/u/" if tracked.kind == UNSUBSCRIBE else f"/t/{tracked.kind}/"
        return f"{self.base}{path}{self.signer.sign(tracked)}"

    def html(self, text: str, mail: Tracked) -> str:
        """``text`` with each ``<a href="http(s)://…">`` tracked and the open pixel added."""

        def link(match: re.Match[str]) -> str:
            written = next(g for g in match.groups()[1:] if g is not None)
            target = html.unescape(written).strip()
            if not _is_web(target):
                return match.group(0)
            return f'{match.group(1)}"{self.url(mail.of(CLICK, target))}"'

        tracked = _HREF.sub(link, text)
        pixel = (
            f'<img src="{self.url(mail.of(OPEN))}" width="1" height="1" alt="" '
            'style="border:0;width:1px;height:1px">'
        )
        ends = list(_BODY_END.finditer(tracked))
        if not ends:
            return tracked + pixel
        at = ends[-1].start()
        return tracked[:at] + pixel + tracked[at:]

    def text(self, text: str, mail: Tracked) -> str:
        """``text`` with each ``http(s)://`` URL tracked (trailing punctuation left out)."""

        def link(match: re.Match[str]) -> str:
            target, rest = _split_trailing(match.group(0))
            return self.url(mail.of(CLICK, target)) + rest

        return _TEXT_URL.sub(link, text)


def tracker_for(config: Config) -> Tracker | None:
    """The tracker ``[http]`` asks for: None without a ``base_url`` (no server to point
    links at); :class:`~flowctl.errors.InputError` when its secret is missing."""
    http = config.http
    if http is None or http.base_url is None:
        return None
    return Tracker(http.base_url, Signer(signing_secret(http)))


def _is_web(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def _split_trailing(url: str) -> tuple[str, str]:
    """A URL found in text, without the punctuation that ends the sentence around it.

    A closing parenthesis stays when the URL opened one (``…/Foo_(bar)``).
    """
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        if url[end - 1] == ")" and url.count("(", 0, end) >= url.count(")", 0, end):
            break
        end -= 1
    return url[:end], url[end:]
