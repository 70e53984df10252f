"""One feed's events placed on the timeline in memory, ready for one batch write.

:class:`Placer` follows event identity (:mod:`tracker.timeline.placement`); the pipeline
uses :class:`LegacyPlacer` (the rules before identity) only when asked to, as the
evaluation's baseline. A new event gets a temporary negative ref, is added to the
candidates at once (so a second report in the same batch joins it) and is written with the
batch. Both are pure apart from the batch they fill; the store writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from tracker.model import DetectedEvent, EntityRef, TimelineEvent
from tracker.store.repo import NewEvent, SourceNote, StoredItem, TimelineBatch
from tracker.timeline import (
    Mention,
    event_time,
    find_same,
    follow_up_of,
    main_entities,
    mention,
    of_event,
    place,
    window,
)
from tracker.timeline.identity import FOLLOWS


def lock_keys(events: Iterable[DetectedEvent]) -> list[str]:
    """The event keys placing these events must hold: type + each main entity (companies
    and products, else the governments), ``type|`` for an event naming none; sorted, so
    concurrent placements take them in one order."""
    return sorted({f"{t}|{e}" for ev in events for t, e in _keys(ev.type, ev.entities)})


class _Base:
    def __init__(self, candidates: list[TimelineEvent]) -> None:
        self.candidates = candidates
        self.known = {c.id for c in candidates}  # ids of the candidates, kept as they grow
        self.batch = TimelineBatch()
        self.joined_alerted: set[int] = set()
        self.by_item: dict[int, list[TimelineEvent]] = {}  # events placed for each item

    def _join(self, item: StoredItem, ev: DetectedEvent, same: TimelineEvent,
              note: SourceNote | None = None) -> int:
        self.by_item.setdefault(item.id, []).append(same)
        self.batch.sources.append((same.id, item, ev))
        if note is not None:
            self.batch.notes[(same.id, item.id)] = note
        if same.alerted and same.id > 0:
            self.joined_alerted.add(same.id)
        return same.id

    def _create(self, item: StoredItem, ev: DetectedEvent, previous: TimelineEvent | None,
                note: SourceNote | None = None, m: Mention | None = None) -> TimelineEvent:
        when = event_time(ev, item.published, item.first_seen)
        ref = -(len(self.batch.new_events) + 1)
        figures = note.figures if note else ()
        sentences = note.sentences if note else ()
        first = tuple(e for e in ev.entities if m is None or e.kind != "product"
                      or e.id in m.products)
        self.batch.new_events.append(NewEvent(
            ref, ev, item.title or ev.sentence, when, item.outlet,
            previous.id if previous else None, figures, sentences, first))
        self.batch.sources.append((ref, item, ev))
        if note is not None:
            self.batch.notes[(ref, item.id)] = note
        created = TimelineEvent(
            id=ref, type=ev.type, headline=item.title, entities=ev.entities,
            event_date=ev.event_date, sort_date=when, status=ev.status, first_seen=item.first_seen,
            first_outlet=item.outlet, source_count=1, alerted=False, evidence=ev.evidence,
            sentence=ev.sentence, figures=figures,
            follow_up_of=previous.id if previous else None, recap=ev.recap,
            first_reported=item.published, sentences=sentences, first_entities=first)
        self.candidates.append(created)
        self.known.add(created.id)
        self.by_item.setdefault(item.id, []).append(created)
        return created


class LegacyPlacer(_Base):
    """The placement before event identity (:mod:`tracker.timeline.legacy`): the baseline."""

    def place(self, item: StoredItem, ev: DetectedEvent,
              linked: Sequence[TimelineEvent]) -> int | None:
        when = event_time(ev, item.published, item.first_seen)
        pool = [*self.candidates, *(c for c in linked if c.id not in self.known)]
        same = find_same(ev, when, pool, frozenset(c.id for c in linked))
        if same is not None:
            return self._join(item, ev, same)
        return self._create(item, ev, follow_up_of(ev, linked)).id


class Placer(_Base):
    """Placement by event identity (see :mod:`tracker.timeline.placement`).

    Candidates are indexed by (type, main entity), so a mention is compared only with the
    events it could be: those sharing its type (or a type it may follow up) and a main
    entity, and those naming none; their mentions are built once per batch.
    """

    def __init__(self, candidates: list[TimelineEvent],
                 reach: timedelta | None = None) -> None:
        """``reach``: how far back from a mention's time a stored candidate may lie (the
        follow-up span; the read used the same), besides the mention's own time window;
        None: every candidate of its keys, whatever its date."""
        super().__init__([])
        self._reach = reach
        self._index: dict[tuple[str, str], list[TimelineEvent]] = {}
        self._mentions: dict[int, Mention] = {}
        self._by_type: dict[str, list[TimelineEvent]] = {}
        for c in candidates:
            self._add(c)

    def _add(self, c: TimelineEvent) -> None:
        self.candidates.append(c)
        self.known.add(c.id)
        self._by_type.setdefault(c.type, []).append(c)
        for key in _keys(c.type, c.entities):
            self._index.setdefault(key, []).append(c)

    def _pool(self, ev: DetectedEvent, linked: Sequence[TimelineEvent], when: datetime,
              ) -> list[tuple[TimelineEvent, Mention]]:
        types = (ev.type, *FOLLOWS.get(ev.type, ()))
        keys = _keys(ev.type, ev.entities)
        found: dict[int, TimelineEvent] = {}
        if any(k[1] == "" for k in keys):  # the event names nothing: every event of its type
            found.update((c.id, c) for c in self._by_type.get(ev.type, ()))
        for t in types:
            for _, entity in keys:
                found.update((c.id, c) for c in self._index.get((t, entity), ()))
            found.update((c.id, c) for c in self._index.get((t, ""), ()))
        if self._reach is not None:  # stored events outside the mention's reach: not it
            span = window(ev) * 2
            lo, hi = when - max(span, self._reach), when + span
            found = {i: c for i, c in found.items() if i < 0 or lo <= c.sort_date <= hi}
        found.update((c.id, c) for c in linked if c.type in types)
        out = []
        for c in found.values():
            m = self._mentions.get(c.id)
            if m is None:
                m = self._mentions[c.id] = of_event(c)
            out.append((c, m))
        return out

    def place(self, item: StoredItem, ev: DetectedEvent,
              linked: Sequence[TimelineEvent], m: Mention | None = None) -> int | None:
        """The event ref ``ev`` (read as ``m`` when given) went to, or None for a
        background mention dropped."""
        m = m or mention(ev, item.published, item.first_seen)
        when = event_time(ev, item.published, item.first_seen)
        decision = place(m, self._pool(ev, linked, when), frozenset(c.id for c in linked))
        if decision.event is not None:
            assert decision.verdict is not None
            return self._join(item, ev, decision.event,
                              SourceNote(str(decision.verdict), m.figures, m.sentences))
        if decision.dropped:
            return None
        previous = decision.follows
        reason = (f"new event; follows up #{previous.id}: {decision.follow_reason}"
                  if previous is not None and previous.id > 0 else
                  f"new event; follows up an event of this batch: {decision.follow_reason}"
                  if previous is not None else "new event: no timeline event is the same")
        created = self._create(item, ev, previous, SourceNote(reason, m.figures, m.sentences), m)
        self.candidates.pop()  # _add puts it back, indexed
        self._add(created)
        return created.id


def _keys(type_id: str, entities: Sequence[EntityRef]) -> list[tuple[str, str]]:
    """(type, main entity) pairs: companies and products (a product's family too:
    ``ascend`` for ``ascend_910c``), else governments and regulators, else ``(type, "")``."""
    named = [e.id for e in entities if e.kind in ("company", "product")]
    named += [e.id.split("_")[0] for e in entities if e.kind == "product" and "_" in e.id]
    if not named:
        named = [e.id for e in entities if e.kind not in ("country", "person")]
    return [(type_id, e) for e in dict.fromkeys(named)] or [(type_id, "")]


__all__ = ["LegacyPlacer", "Placer", "lock_keys", "main_entities"]
