"""A fetched feed body to a ``ParsedFeed`` (RSS 0.9x/2.0, RSS 1.0, Atom, JSON Feed), pure and
synchronous.

The order of work:

1. decode the bytes ourselves (``decode.decode_feed``; a decoding we had to force, e.g. UTF-8
   with a few bad bytes replaced, becomes a warning) and hand feedparser UTF-8 with a
   matching Content-Type, so it never guesses the encoding again;
2. look at what the body is (``sniff``): JSON goes to ``jsonfeed.read_json_feed``; an HTML
   page raises ``ParseError(kind="parse")`` saying "this is an HTML page" and which feeds it
   links to; the rest goes to feedparser;
3. give feedparser *no* base URL: it would also "resolve" relative GUIDs (``post-1`` becomes
   ``https://site/feed/post-1``), making identities depend on where the feed was fetched
   from. We resolve links ourselves against the final URL of the fetch (RFC 3986 §5.2).
   HTML sanitising and relative-URI rewriting inside content are off because we keep
   display text only (``display_text`` drops every tag);
4. decide whether the body is a feed at all: no feed version and no entries (garbage)
   raises ``ParseError(kind="parse")``; a feed feedparser had to recover ("bozo", e.g.
   truncated XML) keeps the entries it got and reports the reason in ``warning``;
5. per entry, at most ``limits.max_items`` of them (the rest are dropped with a warning):
   identity (``identity.entry_key``), display text cut to ``limits.max_title_chars`` /
   ``limits.max_text_chars``, GUID and link without control characters (a NUL byte is
   refused by PostgreSQL), absolute link, and a publication date read from the raw
   ``published``/``updated`` string by our own ``dates.read_date``; a string none of our
   readers recognises goes to feedparser's Greek, Hungarian and Korean handlers
   (``dates.read_foreign_date``), never to its whole chain, and a string we refused goes
   nowhere (feedparser reads "AST" as Atlantic time and an unknown zone as UTC).
   No date: ``date_status="missing"``; a date string we cannot read safely is no date too,
   with the reason in ``date_problem`` (and the feed's warning quotes it); more than
   ``FUTURE_TOLERANCE`` ahead of ``now``: ``"future"`` (the date is kept). Such items are
   kept, never dropped.

This module runs in a worker thread; it touches no network and no clock (``now`` is given).
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urljoin

import feedparser

from tracker.errors import ParseError
from tracker.feeds.dates import (
    install_date_handlers,
    read_date,
    read_foreign_date,
    resolve_timezone,
)
from tracker.feeds.decode import decode_feed
from tracker.feeds.identity import canonical_url, entry_key
from tracker.feeds.jsonfeed import read_json_feed
from tracker.feeds.sniff import feed_links, sniff
from tracker.model import DateStatus, FeedEntry, ParsedFeed
from tracker.text.normalize import display_text

FUTURE_TOLERANCE = timedelta(minutes=10)
_DATE_FIELDS = ("published", "updated", "created")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ParseLimits:
    """How much of one feed we keep: items per fetch and characters per field."""

    max_items: int = 500
    max_title_chars: int = 1_000
    max_text_chars: int = 50_000
    max_url_chars: int = 2_000


def parse_feed(
    body: bytes,
    *,
    content_type: str | None,
    final_url: str,
    now: datetime,
    feed_timezone: str | None = None,
    limits: ParseLimits | None = None,
) -> ParsedFeed:
    """Parse one feed body; raises ``ParseError`` when the body is not a feed at all."""
    limits = limits or ParseLimits()
    resolve_timezone(feed_timezone)  # a bad zone name is a config error: fail loudly
    install_date_handlers()
    text, decode_warning = decode_feed(body, content_type)
    warnings = [decode_warning] if decode_warning else []
    kind = sniff(text)
    if kind == "html":
        found = feed_links(text, final_url)
        where = f"it links to a feed at {', '.join(found)}" if found else "it links to no feed"
        raise ParseError("parse", f"not a feed: this is an HTML page ({where})")
    if kind == "json":
        feed, raw_entries = read_json_feed(text)
        version = "json"
    else:
        data = feedparser.parse(
            text.encode("utf-8"),
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
        raw_entries = list(_raw(data, "entries", []))
        version = _raw(data, "version")
        if not version and not raw_entries:
            raise ParseError("parse", f"not a feed: {_bozo_reason(data) or 'no feed elements'}")
        if _raw(data, "bozo"):
            warnings.append(_bozo_reason(data) or "malformed feed")
        feed = _raw(data, "feed", {})
    if len(raw_entries) > limits.max_items:
        warnings.append(f"{len(raw_entries) - limits.max_items} items past the first "
                        f"{limits.max_items} ignored")
        raw_entries = raw_entries[: limits.max_items]
    links = [_link(entry, final_url, limits) for entry in raw_entries]
    shared = Counter(canonical_url(link) for link in links if link)
    unreadable: list[str] = []
    entries = tuple(
        _entry(entry, link, now, feed_timezone, shared[canonical_url(link)] > 1 if link else False,
               limits, unreadable)
        for entry, link in zip(raw_entries, links, strict=True)
    )
    if unreadable:
        shown = ", ".join(repr(u[:60]) for u in unreadable[:3])
        warnings.append(f"{len(unreadable)} items with an unreadable date (kept undated): "
                        f"{shown}")
    feed_link = _clean(str(_raw(feed, "link", "") or ""), limits.max_url_chars)
    return ParsedFeed(
        title=display_text(str(_raw(feed, "title", ""))[: limits.max_title_chars * 4])[
            : limits.max_title_chars],
        link=urljoin(final_url, feed_link) if feed_link else None,
        entries=entries,
        ttl_minutes=_int(_raw(feed, "ttl")),
        warning="; ".join(warnings) or None,
    )


def _entry(
    entry: Mapping[str, Any], link: str | None, now: datetime, tz: str | None, shared: bool,
    limits: ParseLimits, unreadable: list[str],
) -> FeedEntry:
    title = _field(_raw(entry, "title", ""), limits.max_title_chars)
    summary = _field(_raw(entry, "summary", ""), limits.max_text_chars)
    parts = _raw(entry, "content", []) or []
    content = _field(" ".join(str(_raw(part, "value", "")) for part in parts),
                     limits.max_text_chars)
    guid = _clean(str(_raw(entry, "id", "") or ""), 1000) or None
    published, raw_date = _published(entry, tz)
    status: DateStatus = "ok"
    problem = None
    if published is None:
        status = "missing"
        if raw_date:
            problem = f"unreadable date {_CONTROL.sub('', raw_date)[:100]!r}"
            unreadable.append(_CONTROL.sub("", raw_date))
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
        date_problem=problem,
    )


def _field(value: object, cap: int) -> str:
    """Display text of a feed field, at most ``cap`` characters (read at most 4 × cap)."""
    return display_text(str(value)[: cap * 4])[:cap]


def _clean(value: str, cap: int) -> str:
    """An identifier or URL without control characters, white space trimmed, at most ``cap``
    UTF-8 bytes (PostgreSQL refuses index entries over ~2.7 kB; links and keys are indexed)."""
    text = _CONTROL.sub("", value).strip()
    if len(text.encode("utf-8")) <= cap:
        return text
    return text.encode("utf-8")[:cap].decode("utf-8", errors="ignore")


def _link(entry: Mapping[str, Any], base: str, limits: ParseLimits) -> str | None:
    link = _clean(str(_raw(entry, "link", "") or ""), limits.max_url_chars)
    if not link:
        for candidate in _raw(entry, "links", []) or []:
            if _raw(candidate, "rel", "alternate") == "alternate" and _raw(candidate, "href"):
                link = _clean(str(candidate["href"]), limits.max_url_chars)
                break
    if not link:
        return None
    try:
        return urljoin(base, link)
    except ValueError:  # e.g. an invalid IPv6 host: keep the item, drop the link
        return None


def _published(entry: Mapping[str, Any], tz: str | None) -> tuple[datetime | None, str]:
    """The publication time and, when it is None, the date string we refused (or "")."""
    unknown = refused = ""
    for field in _DATE_FIELDS:
        raw = str(_raw(entry, field) or "").strip()
        if not raw:
            continue
        parsed, bad = read_date(raw, tz)
        if parsed is not None:
            return parsed, raw
        if bad:
            refused = refused or raw
        else:
            unknown = unknown or raw
    if refused:
        return None, refused  # feedparser's reading of a string we refused is no better
    if unknown and (foreign := read_foreign_date(unknown)) is not None:
        return foreign, ""  # Greek, Hungarian, Korean… dates that feedparser's handlers know
    if not unknown:  # no raw string at all: feedparser's own reading, if any
        for field in _DATE_FIELDS:
            struct = _raw(entry, f"{field}_parsed")
            if struct:
                try:
                    when = datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
                except (OverflowError, ValueError, OSError):
                    continue
                if 1970 <= when.year <= 2100:
                    return when, ""
    return None, unknown


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
