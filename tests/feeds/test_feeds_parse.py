"""parse_feed: feeds, recoverable feeds, non-feeds, links, dates and their status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.feedserver import Item, html_page, rss
from tracker.errors import ParseError
from tracker.feeds.parse import parse_feed
from tracker.model import ParsedFeed

NOW = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
BASE = "https://news.example/feeds/rss.xml"


def _parse(body: bytes, feed_timezone: str | None = None) -> ParsedFeed:
    return parse_feed(body, content_type=None, final_url=BASE, now=NOW, feed_timezone=feed_timezone)


def test_channel_fields_are_read() -> None:
    """The channel title, absolute link and <ttl> are reported."""
    feed = parse_feed(
        rss([Item("خبر")], title="  موقع &amp; أخبار ", link="/", ttl=45),
        content_type=None, final_url=BASE, now=NOW,
    )  # fmt: skip
    assert feed.title == "موقع & أخبار"
    assert feed.link == "https://news.example/"
    assert feed.ttl_minutes == 45


def test_relative_links_resolve_against_final_url() -> None:
    """Relative item links are made absolute against the final URL of the fetch."""
    items = [Item("أ", link="/news/1"), Item("ب", link="2.html"), Item("ج", link="//cdn.x/y")]
    feed = _parse(rss(items))
    assert [e.link for e in feed.entries] == [
        "https://news.example/news/1",
        "https://news.example/feeds/2.html",
        "https://cdn.x/y",
    ]


def test_html_is_reduced_to_display_text() -> None:
    """Title, summary and content:encoded come out as display text without tags."""
    item = Item(
        "عنوان\u200f <b>عريض</b>",
        description="<p>فقرة&nbsp;أولى</p><script>alert(1)</script>",
        content="<div>نص <a href='/x'>كامل</a></div>",
    )
    entry = parse_feed(rss([item]), content_type=None, final_url=BASE, now=NOW).entries[0]
    assert entry.title == "عنوان عريض"
    assert entry.summary == "فقرة أولى"
    assert entry.content == "نص كامل"


def test_truncated_feed_keeps_items_with_warning() -> None:
    """A feed cut off mid-item keeps the items before the cut and says why in warning."""
    body = rss([Item(f"خبر {i}", link=f"/n/{i}") for i in range(5)])
    cut = body[: body.index("خبر 4".encode())]
    feed = parse_feed(cut, content_type=None, final_url=BASE, now=NOW)
    assert [e.title for e in feed.entries[:4]] == [f"خبر {i}" for i in range(4)]
    assert feed.warning is not None and "SAXParseException" in feed.warning


def test_html_page_raises_parse_error() -> None:
    """An HTML page where the feed should be raises ParseError(kind="parse")."""
    with pytest.raises(ParseError) as caught:
        parse_feed(html_page(), content_type="text/html", final_url=BASE, now=NOW)
    assert caught.value.kind == "parse"


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02 garbage \xff", b'{"json": true}'])
def test_garbage_raises_parse_error(body: bytes) -> None:
    """Bytes that are no feed at all raise ParseError(kind="parse")."""
    with pytest.raises(ParseError):
        _parse(body)


def test_empty_channel_is_a_feed() -> None:
    """A valid feed with no items parses to no entries, without warning."""
    feed = parse_feed(rss([]), content_type=None, final_url=BASE, now=NOW)
    assert feed.entries == () and feed.warning is None


def test_atom_feed_is_parsed() -> None:
    """An Atom feed gives entries with id, alternate link and updated date."""
    body = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>أطوم</title>
<entry><id>tag:news.example,2025:1</id><title>هواوي تشحن أسيند</title>
<link rel="alternate" href="/a/1"/><updated>2025-08-24T10:30:00+03:00</updated>
<summary>ملخص</summary></entry></feed>""".encode()
    entry = _parse(body).entries[0]
    assert entry.key == "guid:tag:news.example,2025:1"
    assert entry.link == "https://news.example/a/1"
    assert entry.published == datetime(2025, 8, 24, 7, 30, tzinfo=UTC)


def test_missing_date_is_kept_and_marked() -> None:
    """An item without a date is kept with published None and date_status "missing"."""
    entry = _parse(rss([Item("بلا تاريخ")])).entries[0]
    assert entry.published is None and entry.date_status == "missing"


def test_unreadable_date_is_missing() -> None:
    """A date string nobody can read counts as missing, not as now."""
    body = rss([Item("خبر", pub_date="قريباً")])
    entry = _parse(body).entries[0]
    assert entry.published is None and entry.date_status == "missing"


def test_future_date_is_kept_and_marked() -> None:
    """A date more than ten minutes ahead of now is kept and marked "future"."""
    ahead = (NOW + timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    near = (NOW + timedelta(minutes=5)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = rss([Item("مجدول", pub_date=ahead), Item("قريب", pub_date=near)])
    entries = _parse(body).entries
    assert entries[0].published == NOW + timedelta(hours=2)
    assert [e.date_status for e in entries] == ["future", "ok"]


def test_ast_means_arabia_not_atlantic() -> None:
    """An RFC 822 date in "AST" is read as +03:00, not feedparser's Atlantic −04:00."""
    body = rss([Item("خبر", pub_date="Sun, 24 Aug 2025 10:30:00 AST")])
    entry = _parse(body).entries[0]
    assert entry.published == datetime(2025, 8, 24, 7, 30, tzinfo=UTC)


def test_feed_timezone_applies_to_naive_dates() -> None:
    """A date without a zone is read in the feed's configured timezone."""
    body = rss([Item("خبر", pub_date="2025-08-24 10:30")])
    cairo = _parse(body, feed_timezone="Africa/Cairo")
    utc = _parse(body)
    assert cairo.entries[0].published == datetime(2025, 8, 24, 7, 30, tzinfo=UTC)  # EEST, +3
    assert utc.entries[0].published == datetime(2025, 8, 24, 10, 30, tzinfo=UTC)


def test_unknown_feed_timezone_is_a_value_error() -> None:
    """A misspelt timezone name fails loudly instead of silently shifting every date."""
    with pytest.raises(ValueError, match="unknown timezone"):
        parse_feed(rss([]), content_type=None, final_url=BASE, now=NOW, feed_timezone="Mars/Base")
