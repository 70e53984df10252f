"""fetch_and_parse: a changed feed is parsed off the loop; an unchanged one is not parsed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from tests.support.feedserver import FeedServer, Item, rss
from tracker.feeds.fetch import Fetcher
from tracker.feeds.parse import parse_feed
from tracker.feeds.poll import fetch_and_parse
from tracker.model import ParsedFeed

NOW = datetime(2025, 9, 1, tzinfo=UTC)


class ParseSpy:
    """parse_feed, counting its calls and the threads it ran on."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[int] = set()

    def __call__(self, body: bytes, **kwargs: Any) -> ParsedFeed:
        self.calls += 1
        self.threads.add(threading.get_ident())
        return parse_feed(body, **kwargs)


async def test_304_costs_no_parse(server: FeedServer, fetcher: Fetcher) -> None:
    """The second poll of an unchanged feed gets 304 and never calls the parser."""
    server.add("/a.xml", rss([Item("خبر", link="/n/1")]), etag='"v1"')
    spy = ParseSpy()
    first = await fetch_and_parse(fetcher, server.url("/a.xml"), None, now=NOW, parse=spy)
    second = await fetch_and_parse(
        fetcher, server.url("/a.xml"), first.fetch.state(), now=NOW, parse=spy
    )
    assert first.feed is not None and first.feed.entries[0].title == "خبر"
    assert second.fetch.not_modified and second.feed is None
    assert spy.calls == 1
    assert threading.get_ident() not in spy.threads  # parsed in a worker thread


async def test_empty_200_costs_no_parse(server: FeedServer, fetcher: Fetcher) -> None:
    """A 200 with an empty body is not parsed (and raises no ParseError)."""
    server.add("/a.xml", b"")
    spy = ParseSpy()
    outcome = await fetch_and_parse(fetcher, server.url("/a.xml"), None, now=NOW, parse=spy)
    assert outcome.feed is None and spy.calls == 0


async def test_links_resolve_against_redirect_target(server: FeedServer, fetcher: Fetcher) -> None:
    """After a redirect, relative links resolve against the final URL, not the first one."""
    server.add("/feeds/v2/rss.xml", rss([Item("خبر", link="item/1")]))
    server.add_redirect("/rss", "/feeds/v2/rss.xml")
    outcome = await fetch_and_parse(fetcher, server.url("/rss"), None, now=NOW)
    assert outcome.feed is not None
    assert outcome.feed.entries[0].link == server.url("/feeds/v2/item/1")
