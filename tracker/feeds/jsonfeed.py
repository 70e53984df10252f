"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) to feedparser-shaped dicts.

``read_json_feed`` returns ``(feed, entries)`` as plain dicts with the keys ``parse`` reads
from feedparser (``title``, ``link``, ``id``, ``summary``, ``content``, ``published``,
``updated``), so one code path builds ``FeedEntry`` values for every format. The mapping:

- feed ``title`` → ``title``; ``home_page_url`` → ``link``;
- item ``id`` → ``id`` (a number is accepted as its string, as readers do); ``url`` (else
  ``external_url``) → ``link``; ``title``; ``summary``; ``content_html`` (else
  ``content_text``) → ``content``; ``date_published`` / ``date_modified`` (RFC 3339) →
  ``published`` / ``updated``.

A body that is JSON but not a JSON Feed (no ``items`` list, or a ``version`` that is not a
jsonfeed.org URL) raises ``ParseError`` saying so; so does invalid JSON.
"""

from __future__ import annotations

import json
from typing import Any

from tracker.errors import ParseError

_VERSION_PREFIX = "https://jsonfeed.org/version/"


def read_json_feed(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The feed fields and the items of a JSON Feed, in feedparser's key names."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError("parse", f"not a feed: invalid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ParseError("parse", "not a feed: a JSON document that is not a JSON Feed")
    version = data.get("version")
    items = data.get("items")
    if not isinstance(items, list) or (
        version is not None and not str(version).startswith(_VERSION_PREFIX)
    ):
        raise ParseError("parse", "not a feed: a JSON document that is not a JSON Feed "
                                  "(no jsonfeed.org version and items list)")
    feed = {"title": _text(data.get("title")), "link": _text(data.get("home_page_url"))}
    return feed, [_item(item) for item in items if isinstance(item, dict)]


def _item(item: dict[str, Any]) -> dict[str, Any]:
    content = _text(item.get("content_html")) or _text(item.get("content_text"))
    return {
        "id": _text(item.get("id")),
        "link": _text(item.get("url")) or _text(item.get("external_url")),
        "title": _text(item.get("title")),
        "summary": _text(item.get("summary")),
        "content": [{"value": content}] if content else [],
        "published": _text(item.get("date_published")),
        "updated": _text(item.get("date_modified")),
    }


def _text(value: object) -> str:
    """Strings as they are, numbers as their text (ids), anything else as empty."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    return ""
