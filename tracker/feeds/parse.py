"""A fetched feed body to a ``ParsedFeed`` (RSS 0.9x/2.0, RSS 1.0, Atom), pure and synchronous.

The order of work:

1. decode the bytes ourselves (``decode.decode_feed_bytes``) and hand feedparser UTF-8 with
   a matching Content-Type, so it never guesses the encoding again;
2. give feedparser *no* base URL: it would also "resolve" relative GUIDs (``post-1`` becomes
   ``https://site/feed/post-1``), making identities depend on where the feed was fetched
   from. We resolve links ourselves against the final URL of the fetch (RFC 3986 §5.2).
   HTML sanitising and relative-URI rewriting inside content are off because we keep
   display text only (``display_text`` drops every tag);
3. decide whether the body is a feed at all: no feed version and no entries (an HTML page,
   garbage) raises ``ParseError(kind="parse")``; a feed feedparser had to recover ("bozo",
   e.g. truncated XML) keeps the entries it got and reports the reason in ``warning``;
4. per entry: identity (``identity.entry_key``), display text, absolute link, and a
   publication date read from the raw ``published``/``updated`` string by our own
   ``dates.parse_date`` (feedparser's ``*_parsed`` is only a fallback: it reads "AST" as
   Atlantic time). No date: ``date_status="missing"``; more than ``FUTURE_TOLERANCE`` ahead
   of ``now``: ``"future"`` (the date is kept). Such items are kept, never dropped.

This module runs in a worker thread; it touches no network and no clock (``now`` is given).
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urljoin

import feedparser

from tracker.errors import ParseError
from tracker.feeds.dates import install_date_handlers, parse_date, resolve_timezone
from tracker.feeds.decode import decode_feed_bytes
from tracker.feeds.identity import canonical_url, entry_key
from tracker.model import DateStatus, FeedEntry, ParsedFeed
from tracker.text.normalize import display_text

FUTURE_TOLERANCE = timedelta(minutes=10)
_DATE_FIELDS = ("published", "updated", "created")


def parse_feed(
    body: bytes,
    *,
    content_type: str | None,
    final_url: str,
    now: datetime,
    feed_timezone: str | None = None,
) -> ParsedFeed:
    """Parse one feed body; raises ``ParseError`` when the body is not a feed at all."""
    resolve_timezone(feed_timezone)  # a bad zone name is a config error: fail loudly
    install_date_handlers()
    text = decode_feed_bytes(body, content_type)
    data = feedparser.parse(
        text.encode("utf-8"),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    raw_entries: list[Mapping[str, Any]] = list(_raw(data, "entries", []))
    if not _raw(data, "version") and not raw_entries:
        raise ParseError("parse", f"not a feed: {_bozo_reason(data) or 'no feed elements'}")
    links = [_link(entry, final_url) for entry in raw_entries]
    shared = Counter(canonical_url(link) for link in links if link)
    entries = tuple(
        _entry(entry, link, now, feed_timezone, shared[canonical_url(link)] > 1 if link else False)
        for entry, link in zip(raw_entries, links, strict=True)
    )
    feed: Mapping[str, Any] = _raw(data, "feed", {})
    feed_link = _raw(feed, "link")
    return ParsedFeed(
        title=display_text(str(_raw(feed, "title", ""))),
        link=urljoin(final_url, feed_link) if feed_link else None,
        entries=entries,
        ttl_minutes=_int(_raw(feed, "ttl")),
        warning=_bozo_reason(data) if _raw(data, "bozo") else None,
    )


def _entry(
    entry: Mapping[str, Any], link: str | None, now: datetime, tz: str | None, shared: bool
) -> FeedEntry:
    title = display_text(str(_raw(entry, "title", "")))
    summary = display_text(str(_raw(entry, "summary", "")))
    parts = _raw(entry, "content", [])
    content = display_text(" ".join(str(_raw(part, "value", "")) for part in parts))
    guid = str(_raw(entry, "id", "")).strip() or None
    published = _published(entry, tz)
    status: DateStatus = "ok"
    if published is None:
        status = "missing"
    elif published > now + FUTURE_TOLERANCE:
        status = "future"
    return FeedEntry(
        key=entry_key(guid, link, title, summary, link_is_shared=shared),
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        content=content,
        published=published,
        date_status=status,
    )


def _link(entry: Mapping[str, Any], base: str) -> str | None:
    link = str(_raw(entry, "link", "")).strip()
    if not link:
        for candidate in _raw(entry, "links", []):
            if _raw(candidate, "rel", "alternate") == "alternate" and _raw(candidate, "href"):
                link = str(candidate["href"]).strip()
                break
    return urljoin(base, link) if link else None


def _published(entry: Mapping[str, Any], tz: str | None) -> datetime | None:
    for field in _DATE_FIELDS:
        raw = _raw(entry, field)
        if raw and (parsed := parse_date(str(raw), tz)) is not None:
            return parsed
    for field in _DATE_FIELDS:
        struct = _raw(entry, f"{field}_parsed")
        if struct:
            return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    return None


def _raw(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``dict.get`` on a FeedParserDict, bypassing its key aliases and their deprecation
    warnings (``updated`` falling back to ``published``)."""
    return dict.get(cast(dict[str, Any], mapping), key, default)


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _bozo_reason(data: Mapping[str, Any]) -> str | None:
    exc = _raw(data, "bozo_exception")
    return f"{type(exc).__name__}: {exc}" if exc is not None else None
