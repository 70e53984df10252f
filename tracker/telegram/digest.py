"""The text of a daily or weekly digest: :func:`build_digest` is pure, events in, Telegram
HTML out. Which subscribers get one is decided in :mod:`tracker.alerts.digests`; the sender
renders each digest row at sending time with this function.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from tracker.alerts.render import Labels, isolate_latin
from tracker.model import TimelineEvent
from tracker.telegram.texts import say


def digest_window(watchlist: str | None) -> tuple[str, datetime, datetime] | None:
    """(period, since, until) of a digest outbox row (``digest:<period>:<key>|<since>|
    <until>``), or None when it is not one."""
    if not watchlist or not watchlist.startswith("digest:") or watchlist.count("|") != 2:
        return None
    key, since, until = watchlist.split("|")
    return key.split(":")[1], datetime.fromisoformat(since), datetime.fromisoformat(until)


def build_digest(events: Sequence[TimelineEvent], labels: Labels, lang: str,
                 period: str = "daily", tz: str = "UTC") -> str:
    """The digest of ``events`` (oldest first) in Telegram HTML; an undated event shows the
    day it was first seen in ``tz`` (``scheduler.timezone``)."""
    lines = [say("digest_weekly" if period == "weekly" else "digest_daily", lang)]
    if not events:
        lines.append(say("digest_empty", lang))
        return "\n".join(lines)
    for ev in sorted(events, key=lambda e: (e.sort_date, e.id)):
        headline = isolate_latin(ev.headline) if lang == "ar" else ev.headline
        date = ev.event_date.value if ev.event_date else \
            ev.first_seen.astimezone(ZoneInfo(tz)).date().isoformat()
        outlets = f" {say('digest_outlets', lang, n=ev.source_count)}" \
            if ev.source_count > 1 else ""
        lines.append("")
        lines.append(f"• <b>{html.escape(labels.labels(ev.type, lang))}</b> "
                     f"({html.escape(date)}){outlets}\n{html.escape(headline)}")
    return "\n".join(lines)
