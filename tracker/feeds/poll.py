"""One feed, fetched and parsed: the unit of work of a poll cycle.

``fetch_and_parse`` fetches conditionally and parses only a changed body, in a worker thread
so that feedparser's CPU time does not block the event loop; a 304 (or an empty 200) costs
no parse at all (RFC 7232 §4.1). Errors pass through: ``FetchError`` from the fetch,
``ParseError`` from the parse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tracker.feeds.fetch import Fetcher, FetchResult, FetchState
from tracker.feeds.parse import ParseLimits, parse_feed
from tracker.model import ParsedFeed

ParseFunction = Callable[..., ParsedFeed]


@dataclass(frozen=True)
class PollResult:
    """The fetch, and the parsed feed unless the feed was not modified."""

    fetch: FetchResult
    feed: ParsedFeed | None


async def fetch_and_parse(
    fetcher: Fetcher,
    url: str,
    state: FetchState | None,
    *,
    now: datetime,
    feed_timezone: str | None = None,
    parse: ParseFunction = parse_feed,
    limits: ParseLimits | None = None,
) -> PollResult:
    """Fetch ``url`` conditionally; parse the body in a thread when it changed."""
    result = await fetcher.fetch(url, state)
    if result.not_modified:
        return PollResult(result, None)
    feed = await asyncio.to_thread(
        parse,
        result.body,
        content_type=result.content_type,
        final_url=result.final_url,
        now=now,
        feed_timezone=feed_timezone,
        limits=limits,
    )
    return PollResult(result, feed)
