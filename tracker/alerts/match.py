"""Which chats get an event. Pure.

Order of decisions for one event:
1. an event whose status is ``denied`` or that is a recap never alerts;
2. an item first seen more than ``max_age`` after its publication is backlog: no alert;
3. a config watchlist matches when the event type is in its ``events`` (or it names none)
   and an entity of the event is in its ``entities`` (or it names none);
4. an instant-mode subscriber matches when *any* of its watch rules holds — each rule is its
   own line: an entity (any event), an event type (any entity), or both
   (:func:`matched_rule`); a subscriber with no rules watches nothing; a muted subscriber
   is skipped until the mute ends.
Each chat appears once, with the first watchlist that matched it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


Rule = tuple[str | None, str | None]


def matched_rule(event_type: str, entity_ids: Iterable[str],
                 rules: Iterable[Rule]) -> Rule | None:
    """The first (sorted) of a subscriber's rules ``(entity or None, type or None)`` that an
    event of ``event_type`` involving ``entity_ids`` satisfies, or None."""
    ids = set(entity_ids)
    for entity, etype in sorted(rules, key=lambda r: (r[0] is None, r[0] or "",
                                                      r[1] is None, r[1] or "")):
        if (entity is None or entity in ids) and (etype is None or etype == event_type):
            return entity, etype
    return None


def subscriber_rules(events: frozenset[str], entities: frozenset[str],
                     pairs: frozenset[tuple[str, str]] = frozenset()) -> frozenset[Rule]:
    return frozenset({*((e, None) for e in entities), *((None, t) for t in events), *pairs})


def match_subscribers(
    ev: DetectedEvent,
    subscribers: Sequence[tuple[str, frozenset[Rule], datetime | None]],
    now: datetime,
) -> list[str]:
    """Chats of instant subscribers ``(chat, rules, muted_until)`` that want ``ev``."""
    chats = []
    ids = ev.entity_ids()
    for chat, rules, muted_until in subscribers:
        if not rules:
            continue
        if muted_until is not None and muted_until > now:
            continue
        if matched_rule(ev.type, ids, rules) is not None:
            chats.append(chat)
    return chats
