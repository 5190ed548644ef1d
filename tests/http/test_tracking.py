"""Link rewriting at render time: which links become tracked, where the pixel goes,
and the unsubscribe headers every e-mail carries."""

from __future__ import annotations

from flowctl.config import parse_config
from flowctl.http.tokens import Signer, Tracked
from flowctl.http.tracking import Tracker, tracker_for

BASE = "https://flows.example.com"
MAIL = Tracked("o", "k:1:s:1", 3, "hello", "news", "s")
TRACKER = Tracker(BASE + "/", Signer(b"k" * 32))


def clicks(text: str) -> list[str | None]:
    """The URLs the tracked links in ``text`` lead to."""
    found = []
    for part in text.split(f"{BASE}/t/c/")[1:]:
        token = part.split('"')[0].split()[0].rstrip(".,)!")
        tracked = TRACKER.signer.verify(token, "c")
        found.append(tracked.url if tracked else None)
    return found


def test_html_links_are_tracked_others_kept() -> None:
    html = (
        "<a href=\"https://a.example/x?p=1&amp;q=2\">A</a> <a class=b href='http://b.example'>B</a>"
        ' <A HREF=https://c.example/>C</A> <a href="mailto:x@example.com">m</a>'
        ' <a href="#top">t</a> <a href="tel:+4712345678">p</a> <img src="https://i.example/i.png">'
    )
    out = TRACKER.html(html, MAIL)
    assert clicks(out) == ["https://a.example/x?p=1&q=2", "http://b.example", "https://c.example/"]
    for kept in ('href="mailto:x@example.com"', 'href="#top"', 'href="tel:+4712345678"'):
        assert kept in out
    assert 'src="https://i.example/i.png"' in out
    assert out.endswith('style="border:0;width:1px;height:1px">')


def test_pixel_goes_before_the_last_body_end() -> None:
    out = TRACKER.html("<html><BODY><p>x</p></BODY ></html>", MAIL)
    assert out.index(f'<img src="{BASE}/t/o/') < out.index("</BODY >")
    assert out.endswith("</BODY ></html>")


def test_text_urls_are_tracked_without_trailing_punctuation() -> None:
    text = (
        "See https://a.example/x. Or (https://b.example/y), "
        "https://en.wikipedia.org/wiki/Foo_(bar)! mailto:x@example.com"
    )
    out = TRACKER.text(text, MAIL)
    assert clicks(out) == [
        "https://a.example/x",
        "https://b.example/y",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
    ]
    assert out.startswith(f"See {BASE}/t/c/") and ". Or (" in out and "), " in out
    assert "! mailto:x@example.com" in out


def test_track_adds_unsubscribe_headers_even_without_link_tracking() -> None:
    payload = {"subject": "Hi", "text": "https://a.example/", "html": "<a href='https://a'>a</a>"}
    for links in (True, False):
        out = TRACKER.track(payload, MAIL, links=links)
        unsubscribe = out["headers"]["List-Unsubscribe"]
        assert unsubscribe.startswith(f"<{BASE}/u/") and unsubscribe.endswith(">")
        assert TRACKER.signer.verify(unsubscribe[len(BASE) + 4 : -1], "u") == MAIL.of("u")
        assert out["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert (out["text"] == payload["text"]) is not links
        assert (out["html"] == payload["html"]) is not links
    assert payload == {
        "subject": "Hi",
        "text": "https://a.example/",
        "html": "<a href='https://a'>a</a>",
    }


def test_tracker_needs_a_base_url(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("S_ENV", "s" * 20)
    assert tracker_for(parse_config({})) is None
    assert tracker_for(parse_config({"http": {"secret_env": "S_ENV"}})) is None
    tracker = tracker_for(parse_config({"http": {"secret_env": "S_ENV", "base_url": BASE}}))
    assert tracker is not None and tracker.base == BASE
