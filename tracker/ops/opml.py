"""OPML in and out: import a feed list from another reader, export ours (pure).

``read_opml`` walks every ``<outline>`` under ``<body>``, however deeply nested (folders are
outlines without ``xmlUrl``), and keeps those with an ``xmlUrl`` (attribute names in any case)
whose ``type`` is absent or a feed type, and whose URL is http(s). The name is ``title``,
else ``text``, else the URL. Repeated URLs keep their first entry.

Parsing is the standard library's expat with every DTD refused: a document carrying a
``<!DOCTYPE`` (the way to entity expansion bombs and external entities) is rejected, as
defusedxml does, without adding a dependency. Errors are
:class:`~tracker.errors.ConfigError` naming the file and the line.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Protocol
from xml.parsers import expat

from tracker.errors import ConfigError

_FEED_TYPES = {"rss", "atom", "feed", "rdf", "xml"}


class FeedLike(Protocol):
    """Anything with a URL and a name (``OpmlFeed``, ``tracker.config.FeedConfig``)."""

    @property
    def url(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class OpmlFeed:
    """One feed read from an OPML file."""

    url: str
    name: str


class _Forbidden(Exception):
    """The document declares a DTD or an entity."""


def read_opml(data: bytes, source: str = "<opml>") -> list[OpmlFeed]:
    """The feeds of an OPML document (see the module docstring); ``source`` names it."""
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    stack: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if not stack and tag != "opml":
            raise ConfigError(source, "", f"not an OPML document (root element <{tag}>)")
        stack.append(tag)
        if tag != "outline" or "body" not in stack:
            return
        lower = {k.lower(): v for k, v in attrs.items()}
        url = lower.get("xmlurl", "").strip()
        kind = lower.get("type", "rss").strip().lower()
        if not url or kind not in _FEED_TYPES:
            return
        if not url.lower().startswith(("http://", "https://")) or url in seen:
            return
        seen.add(url)
        name = " ".join((lower.get("title") or lower.get("text") or url).split())
        feeds.append(OpmlFeed(url=url, name=name or url))

    def end(tag: str) -> None:
        stack.pop()

    def forbid(*_args: object) -> int:
        raise _Forbidden

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.ExternalEntityRefHandler = forbid
    try:
        parser.Parse(data, True)
    except _Forbidden as exc:
        raise ConfigError(source, f"line {parser.CurrentLineNumber}",
                          "DTDs and entity declarations are not accepted in OPML") from exc
    except expat.ExpatError as exc:
        raise ConfigError(source, f"line {exc.lineno}",
                          f"not valid XML: {expat.errors.messages[exc.code]}") from exc
    return feeds


def write_opml(feeds: Iterable[FeedLike], title: str = "tracker feeds",
               created: datetime | None = None) -> bytes:
    """An OPML 2.0 document (UTF-8) listing ``feeds``; reads back with :func:`read_opml`."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    if created is not None:
        ET.SubElement(head, "dateCreated").text = format_datetime(created)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(body, "outline", type="rss", text=feed.name, title=feed.name,
                      xmlUrl=feed.url)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def feeds_toml(feeds: Iterable[FeedLike], existing: Sequence[str] = ()) -> str:
    """``[[feeds]]`` entries to append to a config, skipping URLs in ``existing``.

    Strings are TOML basic strings (JSON escaping is a subset of TOML's), Arabic kept as is.
    """
    skip = set(existing)
    blocks = []
    for feed in feeds:
        if feed.url in skip:
            continue
        skip.add(feed.url)
        blocks.append(f"[[feeds]]\nurl = {_string(feed.url)}\nname = {_string(feed.name)}\n")
    return "\n".join(blocks)


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)
