"""Daily and weekly digests for subscribers who chose them over instant alerts.

:func:`send_digests` is the job the daemon schedules (daily, and weekly on the configured
day). Order of decisions:

1. subscribers in that mode, active, not muted at ``now``, with at least one watch rule;
2. the events first seen in the period (the day or week before ``now``) that any of their
   rules wants; a subscriber with none gets no digest (silence beats "nothing new");
3. one outbox row of kind ``digest`` per (chat, period) — queued once however often the job
   runs, so a restart never doubles a digest — then the outbox is drained, which renders
   each digest at sending time (:func:`tracker.telegram.digest.build_digest`) and delivers
   it like any alert (limits, retries, blocking).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from tracker.alerts.outbox import Notifier, drain
from tracker.store.repo import Store
from tracker.store.subscribers import (
    active_subscribers,
    digest_key,
    enqueue_digest,
    events_for_rules,
)

Period = Literal["daily", "weekly"]
PERIODS: dict[str, timedelta] = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


def queue_digests(store: Store, now: datetime, period: Period) -> int:
    """Steps 1–3 up to the queue (blocking; the job runs it in a thread). Returns rows queued."""
    since = now - PERIODS[period]
    key = digest_key(period, now)
    queued = 0
    for sub in active_subscribers(store, mode=period):
        if sub.muted_until is not None and sub.muted_until > now:
            continue
        if not sub.rules:
            continue
        if not events_for_rules(store, since, now, sub.rules, limit=1):
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
