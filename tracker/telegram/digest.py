"""Daily and weekly digests for subscribers who chose them over instant alerts.

:func:`build_digest` is pure: events in, Telegram HTML out. :func:`send_digests` is the job
the daemon schedules (daily, and weekly on the configured day). Order of decisions:

1. subscribers in that mode, active, not muted at ``now``, with at least one watch rule;
2. the events first seen in the period (the day or week before ``now``) that their rules
   want; a subscriber with none gets no digest (silence beats "nothing new");
3. one outbox row of kind ``digest`` per (chat, period) — queued once however often the job
   runs, so a restart never doubles a digest — then the outbox is drained, which renders
   each digest at sending time and delivers it like any alert (limits, retries, blocking).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from tracker.alerts.outbox import Notifier, drain
from tracker.alerts.render import Labels, isolate_latin
from tracker.model import TimelineEvent
from tracker.store.repo import Store
from tracker.store.subscribers import (
    active_subscribers,
    digest_key,
    enqueue_digest,
    events_between,
)
from tracker.telegram.texts import say

Period = Literal["daily", "weekly"]
PERIODS: dict[str, timedelta] = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


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


def queue_digests(store: Store, now: datetime, period: Period) -> int:
    """Steps 1–3 up to the queue (blocking; the job runs it in a thread). Returns rows queued."""
    since = now - PERIODS[period]
    key = digest_key(period, now)
    queued = 0
    for sub in active_subscribers(store, mode=period):
        if sub.muted_until is not None and sub.muted_until > now:
            continue
        if not sub.events and not sub.entities:
            continue
        if not events_between(store, since, now, sub.events, sub.entities, limit=1):
            continue
        queued += enqueue_digest(store, sub.chat_id, key, since, now, now)
    return queued


async def send_digests(store: Store, notifier: Notifier, now: datetime, period: Period, *,
                       clock: Callable[[], datetime] | None = None,
                       owner: str = "digest") -> int:
    """The scheduled job: queue this period's digests, then drain the outbox through
    ``notifier``. Returns how many digests were queued."""
    queued = await asyncio.to_thread(queue_digests, store, now, period)
    if queued:
        await drain(store, notifier, clock or (lambda: now), owner)
    return queued
