"""Where a detected event goes on the timeline. Pure.

Order of decisions for one detected event:
1. its time: the start of its event date when the text gives one, else the item's
   publication time, else when the item was first seen;
2. candidates are timeline events of the same type dated near that time (the window grows
   with the precision: days for a day, a month for a month, a quarter for a quarter);
3. it joins the candidate whose main entities (companies and products; governments when
   the event names nothing else) overlap its own and whose date is compatible; the closest
   in time wins;
4. otherwise it becomes a new timeline event — a linked follow-up when an event of a
   near-duplicate story (same type and entities, another time) is on the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from tracker.model import DetectedEvent, EntityRef, EventDate, TimelineEvent

_MAIN_KINDS = ("company", "product")
_WINDOW = {
    None: timedelta(days=3),
    "day": timedelta(days=3),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
    "quarter": timedelta(days=92),
    "year": timedelta(days=366),
}


def main_entities(entities: Sequence[EntityRef]) -> frozenset[str]:
    """Companies and products; the governments only when nothing else is named."""
    main = frozenset(e.id for e in entities if e.kind in _MAIN_KINDS)
    if main:
        return main
    return frozenset(e.id for e in entities if e.kind != "country")


def date_start(date: EventDate) -> datetime | None:
    """The first instant of an event date, or None when the value is malformed."""
    v = date.value
    try:
        if date.precision in ("day", "week"):
            return datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=UTC)
        if date.precision == "month":
            return datetime.strptime(v, "%Y-%m").replace(tzinfo=UTC)
        if date.precision == "quarter":
            year, q = v.split("-Q")
            return datetime(int(year), 3 * (int(q) - 1) + 1, 1, tzinfo=UTC)
        if date.precision == "year":
            return datetime(int(v[:4]), 1, 1, tzinfo=UTC)
    except ValueError:
        return None
    return None


def event_time(ev: DetectedEvent, published: datetime | None, first_seen: datetime) -> datetime:
    if ev.event_date is not None and (start := date_start(ev.event_date)) is not None:
        return start
    return published or first_seen


def window(ev: DetectedEvent) -> timedelta:
    return _WINDOW[ev.event_date.precision if ev.event_date else None]


def find_same(
    ev: DetectedEvent, when: datetime, candidates: Sequence[TimelineEvent],
    linked: frozenset[int] = frozenset(),
) -> TimelineEvent | None:
    """The timeline event ``ev`` reports again, or None (see the module docstring).

    ``linked`` holds the ids of events whose items are near-duplicates of this one's item:
    for them one side naming no main entity is no obstacle (a rewrite may drop a name).
    """
    mine = main_entities(ev.entities)
    best: tuple[float, int, TimelineEvent] | None = None
    for c in candidates:
        if c.type != ev.type:
            continue
        theirs = main_entities(c.entities)
        if mine and theirs and not mine & theirs:
            continue
        if bool(mine) != bool(theirs) and c.id not in linked:
            continue
        span = max(window(ev), _WINDOW[c.event_date.precision if c.event_date else None])
        gap = abs((c.sort_date - when).total_seconds())
        if gap > span.total_seconds():
            continue
        rank = (gap, -len(mine & theirs), c)
        if best is None or rank[:2] < best[:2]:
            best = rank
    return None if best is None else best[2]


def follow_up_of(ev: DetectedEvent, linked: Sequence[TimelineEvent]) -> TimelineEvent | None:
    """An event of a near-duplicate story that ``ev`` follows up (same type and entities,
    but not the same time), or None."""
    mine = main_entities(ev.entities)
    for c in sorted(linked, key=lambda c: c.sort_date, reverse=True):
        if c.type == ev.type and (not mine or mine & main_entities(c.entities)):
            return c
    return None
