"""The placement rules before event identity (issue 10), kept as the evaluation's baseline.

``tracker eval-timeline`` replays a labelled set through the pipeline twice: once with
:mod:`tracker.timeline.identity`, once with these rules, and prints both.

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
from datetime import datetime

from tracker.model import DetectedEvent, EntityRef, TimelineEvent
from tracker.timeline.time import WINDOW as _WINDOW
from tracker.timeline.time import window

_MAIN_KINDS = ("company", "product")


def main_entities(entities: Sequence[EntityRef]) -> frozenset[str]:
    """Companies and products; the governments only when nothing else is named."""
    main = frozenset(e.id for e in entities if e.kind in _MAIN_KINDS)
    if main:
        return main
    return frozenset(e.id for e in entities if e.kind != "country")


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
