"""Demo feeds: ``replay://NAME`` URLs served from bundled sample files, no network needed.

A sample file (``config/demo/NAME.toml``) lists items written for the demo. The replay
transport reveals them one by one over ``demo.replay_over`` from the moment the daemon
started, each dated when it is revealed, so the daemon sees news arrive as it would from a
live feed: new items, events, alerts and a growing timeline. It is an httpx transport, so the
real fetch and parse path runs on it (ETag and 304 included).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import httpx

from tracker.errors import ConfigError


@dataclass(frozen=True)
class SampleItem:
    title: str
    summary: str
    link: str


def load_samples(path: Path) -> tuple[str, tuple[SampleItem, ...]]:
    """(feed title, items) from a sample file; a bad file raises ConfigError."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        items = tuple(SampleItem(i["title"], i["summary"], i["link"]) for i in raw["items"])
        return str(raw.get("title", path.stem)), items
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "", "demo sample file not found") from exc
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(str(path), "items", f"bad demo sample file: {exc!r}") from exc


def render_rss(title: str, items: list[tuple[SampleItem, datetime]]) -> bytes:
    """RSS 2.0 for the revealed items, newest first."""
    parts = [f"<?xml version='1.0' encoding='utf-8'?>\n<rss version='2.0'><channel>"
             f"<title>{escape(title)}</title><link>https://demo.invalid/</link>"
             f"<description>{escape(title)}</description>"]
    for item, when in reversed(items):
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f"<guid isPermaLink='false'>{escape(item.link)}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(item.summary)}</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


class ReplayTransport(httpx.AsyncBaseTransport):
    """Serves ``replay://NAME`` from ``folder/NAME.toml``, revealing items over time."""

    def __init__(self, folder: Path, started: datetime, over: timedelta,
                 clock: Callable[[], datetime]) -> None:
        self.folder = folder
        self.started = started
        self.over = over
        self.clock = clock
        self._cache: dict[str, tuple[str, tuple[SampleItem, ...]]] = {}

    def _samples(self, name: str) -> tuple[str, tuple[SampleItem, ...]]:
        if name not in self._cache:
            self._cache[name] = load_samples(self.folder / f"{name}.toml")
        return self._cache[name]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = request.url.host
        try:
            title, items = self._samples(name)
        except ConfigError as exc:
            return httpx.Response(404, text=str(exc), request=request)
        step = self.over / max(1, len(items))
        now = self.clock()
        shown = [(it, self.started + step * i) for i, it in enumerate(items)
                 if self.started + step * i <= now]
        body = render_rss(title, shown)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag}, request=request)
        return httpx.Response(200, content=body, request=request, headers={
            "Content-Type": "application/rss+xml; charset=utf-8", "ETag": etag})
