"""The timeline events a feed's new events could be placed on, read by window.

Placement asks, per event type, for the events of that type dated in a window and, unless
an event naming no main entity asks for the type, involving one of the batch's entities. Each
window is one index range: ``event_entity (entity_id, sort_date, event_id)`` (migration
0010) when entities are given, ``event (type, sort_date)`` otherwise. Only the columns
placement reads are selected, in Core (no ORM rows): the headline and evidence are left
empty in the events returned, which are candidates for placement and not for display.
What a read costs therefore depends on how many events lie in the windows, not on how
many are stored.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.model import EntityRef, EventDate, TimelineEvent
from tracker.store.tables import EventEntityRow, EventRow


@dataclass(frozen=True)
class Window:
    """Events of ``type`` dated in [since, until], involving one of ``entities`` (all
    events of the type when empty)."""

    type: str
    since: datetime
    until: datetime
    entities: frozenset[str] = frozenset()


_EVENT = EventRow.__table__  # type: ignore[attr-defined]
_ENTITY = EventEntityRow.__table__  # type: ignore[attr-defined]
_COLUMNS = [_EVENT.c[name] for name in (
    "id", "type", "entities", "event_date", "precision", "sort_date", "status", "first_seen",
    "first_outlet", "source_count", "alerted", "sentence", "figures", "follow_up_of",
    "outlet_count", "recap", "first_reported", "sentences", "first_entities")]


def _refs(raw: str | None) -> tuple[EntityRef, ...]:
    return tuple(EntityRef(**e) for e in json.loads(raw or "[]"))


def _event(r: Any) -> TimelineEvent:
    date = EventDate(r.event_date, r.precision) if r.event_date and r.precision else None
    return TimelineEvent(
        id=r.id, type=r.type, headline="", entities=_refs(r.entities), event_date=date,
        sort_date=r.sort_date, status=r.status, first_seen=r.first_seen,
        first_outlet=r.first_outlet, source_count=r.source_count, alerted=r.alerted,
        evidence=(), sentence=r.sentence, figures=tuple(json.loads(r.figures or "[]")),
        follow_up_of=r.follow_up_of, outlet_count=r.outlet_count, recap=r.recap,
        first_reported=r.first_reported, sentences=tuple(json.loads(r.sentences or "[]")),
        first_entities=_refs(r.first_entities))


def _query(w: Window) -> Any:
    if not w.entities:
        return select(*_COLUMNS).where(_EVENT.c.type == w.type, _EVENT.c.sort_date >= w.since,
                                       _EVENT.c.sort_date <= w.until)
    involved = (select(_ENTITY.c.event_id).where(
        _ENTITY.c.entity_id.in_(sorted(w.entities)), _ENTITY.c.sort_date >= w.since,
        _ENTITY.c.sort_date <= w.until).distinct().subquery())
    return (select(*_COLUMNS).join(involved, involved.c.event_id == _EVENT.c.id)
            .where(_EVENT.c.type == w.type))


def windows_of(wanted: Sequence[tuple[Collection[str], datetime, datetime, Collection[str]]],
               ) -> list[Window]:
    """One window per type from ``(types, since, until, main entities)`` per event: the
    type's earliest ``since``, latest ``until`` and its events' entities; no entity filter
    for a type that an event naming none asks for (its pool reaches every event of it)."""
    spans: dict[str, tuple[datetime, datetime, set[str], bool]] = {}
    for types, since, until, entities in wanted:
        for t in types:
            lo, hi, names, anonymous = spans.get(t, (since, until, set(), False))
            spans[t] = (min(lo, since), max(hi, until), names | set(entities),
                        anonymous or not entities)
    return [Window(t, lo, hi, frozenset() if anonymous else frozenset(names))
            for t, (lo, hi, names, anonymous) in sorted(spans.items())]


def read_candidates(session: Session, windows: Sequence[Window]) -> list[TimelineEvent]:
    """The events in any of ``windows``, each once, newest first (ties: newest id)."""
    found: dict[int, TimelineEvent] = {}
    for w in windows:
        for r in session.execute(_query(w)):
            if r.id not in found:
                found[r.id] = _event(r)
    return sorted(found.values(), key=lambda e: (e.sort_date, e.id), reverse=True)


__all__ = ["Window", "read_candidates", "windows_of"]
