"""What a decoded body is, before a feed parser sees it (pure).

A URL that used to serve a feed may start serving the site's home page, an error page, or a
JSON document; feedparser then reports "mismatched tag" or "invalid token", which tells the
operator nothing. ``sniff`` looks at the start of the text, in this order:

1. ``{`` or ``[`` first (after white space): ``"json"``;
2. a ``<!DOCTYPE html`` or an ``<html`` root element (after an optional XML declaration and
   comments): ``"html"`` — and :func:`feed_links` lists the feeds the page advertises with
   ``<link rel="alternate" type="application/rss+xml|atom+xml|feed+json" href=…>``
   (the convention of RSS/Atom autodiscovery), made absolute against the page URL, without
   control characters (the page is a stranger's text and the links end up in error messages,
   logs and the operator's terminal);
3. anything else: ``"xml"``, for feedparser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urljoin

BodyKind = Literal["json", "html", "xml"]

_PROLOG = re.compile(r"\A(?:\s|<\?xml[^>]*\?>|<!--.*?-->)*", re.S)
_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]", re.I)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json",
                        "application/json", "application/rdf+xml"})


def sniff(text: str) -> BodyKind:
    """The kind of ``text`` (see the module docstring)."""
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start in ("{", "["):
        return "json"
    rest = text[_PROLOG.match(text).end():][:200]  # type: ignore[union-attr]
    return "html" if _HTML_START.match(rest) else "xml"


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("link", "a"):
            return
        found = {name.lower(): (value or "") for name, value in attrs}
        rel = found.get("rel", "").lower().split()
        kind = found.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in FEED_TYPES and found.get("href", "").strip():
            self.hrefs.append(found["href"].strip())


def feed_links(page: str, base_url: str, limit: int = 5) -> list[str]:
    """The feed URLs an HTML page advertises, absolute, in page order, without repeats."""
    finder = _LinkFinder()
    try:
        finder.feed(page[:500_000])
        finder.close()
    except (AssertionError, ValueError):  # html.parser on hopeless input
        pass
    found: list[str] = []
    for href in finder.hrefs:
        href = _CONTROL.sub("", href).strip()
        try:
            url = urljoin(base_url, href) if href else ""
        except ValueError:  # e.g. an invalid IPv6 host: not a link we can name
            continue
        if url and url not in found:
            found.append(url)
    return found[:limit]
