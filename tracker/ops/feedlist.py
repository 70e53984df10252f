"""The rows of ``tracker feeds``: each feed's state as the operator needs to read it (pure).

One row per feed, in id order: ``name``, ``url`` (the config URL, with "→ <moved_to>" when a
permanent redirect was adopted), ``state`` (in this order: ``retired`` for a 410 feed,
``waiting until …`` while a server's Retry-After holds, else the last health verdict, or
``new`` before the first poll), ``failures`` (consecutive), ``last poll`` and ``problem``
(the last error, else the last warning a fetch survived). Strings are plain text; the CLI
escapes them for the console.
"""

from __future__ import annotations

from datetime import datetime

from tracker.store.repo import FeedView

COLUMNS = ("name", "url", "state", "failures", "last poll", "problem")


def feed_rows(feeds: list[FeedView], now: datetime) -> list[tuple[str, ...]]:
    """The table rows for ``feeds`` at ``now`` (see the module docstring)."""
    return [_row(feed, now) for feed in feeds]


def _row(feed: FeedView, now: datetime) -> tuple[str, ...]:
    url = feed.url + (f" → {feed.moved_to} (moved permanently)" if feed.moved_to else "")
    if feed.retired_at is not None:
        state = f"retired {feed.retired_at:%Y-%m-%d %H:%M} UTC (410 Gone)"
    elif feed.retry_after is not None and feed.retry_after > now:
        state = f"waiting until {feed.retry_after:%Y-%m-%d %H:%M} UTC (server asked)"
    elif feed.health:
        state = feed.health + (f": {feed.health_reasons}" if feed.health_reasons else "")
    else:
        state = "new" if feed.last_polled_at is None else "healthy"
    when = f"{feed.last_polled_at:%Y-%m-%d %H:%M}" if feed.last_polled_at else "never"
    problem = ""
    if feed.last_error:
        problem = f"{feed.last_error_kind or 'error'}: {feed.last_error}"
    elif feed.last_warning:
        problem = f"warning: {feed.last_warning}"
    return (feed.name, url, state, str(feed.consecutive_failures), when, problem[:300])
