"""Which chats get an event. Pure.

Order of decisions for one event:
1. an event whose status is ``denied`` or that is a recap never alerts;
2. an item first seen more than ``max_age`` after its publication is backlog: no alert;
3. a config watchlist matches when the event type is in its ``events`` (or it names none)
   and an entity of the event is in its ``entities`` (or it names none);
4. an instant-mode subscriber matches the same way with its own watch rules; a subscriber
   with no rules watches nothing; a muted subscriber is skipped until the mute ends.
Each chat appears once, with the first watchlist that matched it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tracker.model import DetectedEvent, Watchlist


def is_fresh(
    published: datetime | None, first_seen: datetime, max_age: timedelta, first_fetch: bool
) -> bool:
    """News is an item first seen within ``max_age`` of its publication time.

    An undated item counts as published when first seen, except on a feed's first fetch,
    where it is backlog.
    """
    if published is None:
        return not first_fetch
    return first_seen - published <= max_age


def _wants(events: frozenset[str], entities: frozenset[str], ev: DetectedEvent) -> bool:
    if events and ev.type not in events:
        return False
    return not entities or bool(entities.intersection(ev.entity_ids()))


def alertable(ev: DetectedEvent) -> bool:
    return ev.status != "denied" and not ev.recap


def match_watchlists(ev: DetectedEvent, watchlists: Sequence[Watchlist]) -> list[tuple[str, str]]:
    """(chat, watchlist name) pairs for ``ev``, each chat once."""
    out: dict[str, str] = {}
    for wl in watchlists:
        if _wants(wl.events, wl.entities, ev):
            for chat in wl.chats:
                out.setdefault(chat, wl.name)
    return list(out.items())


def match_subscribers(
    ev: DetectedEvent,
    subscribers: Sequence[tuple[str, frozenset[str], frozenset[str], datetime | None]],
    now: datetime,
) -> list[str]:
    """Chats of instant subscribers (chat, events, entities, muted_until) that want ``ev``."""
    chats = []
    for chat, events, entities, muted_until in subscribers:
        if not events and not entities:
            continue
        if muted_until is not None and muted_until > now:
            continue
        if _wants(events, entities, ev):
            chats.append(chat)
    return chats
