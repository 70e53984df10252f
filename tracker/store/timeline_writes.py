"""A transaction's timeline statements: the candidates placement reads, and one feed's new
events, sources, status changes and alerts written in a few statements.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import (
    text,
    update,
)
from sqlmodel import Session, col, select

from tracker.model import (
    DetectedEvent,
    EntityRef,
    TimelineEvent,
)
from tracker.store.candidates import Window, read_candidates
from tracker.store.tables import (
    EventEntityRow,
    EventRow,
    EventSourceRow,
    EventStatusRow,
    OutboxRow,
)
from tracker.store.values import BatchResult, NewEvent, SourceNote, StoredItem, TimelineBatch
from tracker.store.views import event_view as _event_view


def _unique_entities(entities: Sequence[EntityRef]) -> list[EntityRef]:
    """Each entity once, with its first (most telling) role."""
    first: dict[str, EntityRef] = {}
    for e in entities:
        first.setdefault(e.id, e)
    return list(first.values())


def _new_event_row(n: NewEvent, now: datetime) -> EventRow:
    entities = _unique_entities(n.ev.entities)
    date = n.ev.event_date
    return EventRow(
        type=n.ev.type, headline=n.headline,
        event_date=date.value if date else None, precision=date.precision if date else None,
        sort_date=n.sort_date, status=n.ev.status, confidence=n.ev.confidence,
        entities=json.dumps([e.__dict__ for e in entities], ensure_ascii=False),
        entity_keys=_entity_keys(entities),
        evidence=json.dumps(list(n.ev.evidence), ensure_ascii=False),
        first_seen=now, first_outlet=n.outlet, source_count=0, updated_at=now,
        follow_up_of=n.follow_up_of if n.follow_up_of and n.follow_up_of > 0 else None,
        sentence=n.ev.sentence, figures=json.dumps(list(n.figures)), outlet_count=0,
        recap=n.ev.recap,
        sentences=json.dumps(list((n.sentences or (n.ev.sentence,))[:_SENTENCES_KEPT]),
                             ensure_ascii=False),
        first_entities=json.dumps([e.__dict__ for e in _unique_entities(
            n.first_entities or n.ev.entities)], ensure_ascii=False),
    )


def _lock_id(key: str) -> int:
    """A stable signed 64-bit advisory lock id for an event key."""
    return int.from_bytes(hashlib.blake2b(b"event:" + key.encode(), digest_size=8).digest(),
                          "big", signed=True)


def _entity_keys(entities: Sequence[EntityRef]) -> str:
    return " " + " ".join(sorted({e.id for e in entities})) + " "



_SENTENCES_KEPT = 6  # event sentences an event keeps for identity's similarity


class TimelineWrites:
    """The timeline part of :class:`~tracker.store.tx.Tx`."""

    session: Session

    def lock_event_keys(self, keys: Sequence[str]) -> None:
        """Serialise placement per event key on PostgreSQL: a transaction-level advisory
        lock on each key (in the order given: callers sort them, so two transactions never
        wait on each other in a cycle), held until this transaction ends. Reads after it
        see the events that a concurrent placement of the same key committed. SQLite
        serialises writers itself: nothing to do."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for key in keys:
            self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                 {"k": _lock_id(key)})

    def events_between(
        self, types: Sequence[str], since: datetime, until: datetime,
        entities: Collection[str] = (), limit: int = 200,
    ) -> list[TimelineEvent]:
        """Timeline events of ``types`` dated in [since, until]; with ``entities``, only
        those involving one of them (through the entity index). Newest first."""
        if not types:
            return []
        q = select(EventRow).where(col(EventRow.type).in_(types), EventRow.sort_date >= since,
                                   EventRow.sort_date <= until)
        if entities:
            involved = select(EventEntityRow.event_id).where(
                col(EventEntityRow.entity_id).in_(list(entities)),
                EventEntityRow.sort_date >= since, EventEntityRow.sort_date <= until)
            q = q.where(col(EventRow.id).in_(involved))
        rows = self.session.exec(q.order_by(col(EventRow.sort_date).desc()).limit(limit)).all()
        return [_event_view(r) for r in rows]

    def candidates(self, windows: Sequence[Window]) -> list[TimelineEvent]:
        """The events placement could put new events on (see :mod:`.candidates`)."""
        return read_candidates(self.session, windows)

    def create_event(
        self, ev: DetectedEvent, *, headline: str, sort_date: datetime, now: datetime,
        outlet: str, follow_up_of: int | None = None,
    ) -> int:
        """Start a timeline event (without sources; see :meth:`add_source`)."""
        batch = TimelineBatch(new_events=[NewEvent(-1, ev, headline, sort_date, outlet,
                                                    follow_up_of)])
        return self.write_timeline(batch, now).event_ids[-1]

    def add_source(
        self, event_id: int, item: StoredItem, ev: DetectedEvent, now: datetime
    ) -> bool:
        """Attach ``item`` as a source of the event; False when it already was one."""
        written = self.write_timeline(TimelineBatch(sources=[(event_id, item, ev)]), now)
        return written.sources == 1

    def write_timeline(self, batch: TimelineBatch, now: datetime) -> BatchResult:
        """Write a feed's timeline changes in a few statements.

        In order: the new events (their temporary negative refs become ids), their entity
        and status rows; then every source, which bumps its event's source count, merges its
        entities and records a status change (confirmed or denied, never from a recap); then
        the outbox rows, skipping any (event, chat) alert that is already queued.
        """
        ids: dict[int, int] = {}
        rows = [(n.ref, _new_event_row(n, now)) for n in batch.new_events]
        self.session.add_all(row for _, row in rows)
        self.session.flush()
        events: dict[int, EventRow] = {}
        for ref, row in rows:
            assert row.id is not None
            ids[ref] = row.id
        for (_ref, row), n in zip(rows, batch.new_events, strict=True):
            assert row.id is not None
            if n.follow_up_of is not None and n.follow_up_of < 0:  # follows one of this batch
                row.follow_up_of = ids[n.follow_up_of]
            events[row.id] = row
            self.session.add_all(EventEntityRow(event_id=row.id, entity_id=e.id, role=e.role,
                                                sort_date=n.sort_date)
                                 for e in _unique_entities(n.ev.entities))
            self.session.add(EventStatusRow(event_id=row.id, status=n.ev.status, at=now))

        def real(ref: int) -> int:
            return ids[ref] if ref < 0 else ref

        sources = [(real(ref), item, ev, batch.notes.get((ref, item.id)))
                   for ref, item, ev in batch.sources]
        joined = {eid for eid, _, _, _ in sources} - set(events)
        outlets: dict[int, set[str]] = {eid: set() for eid in events}
        if joined:
            events.update((r.id, r) for r in self.session.exec(
                select(EventRow).where(col(EventRow.id).in_(joined))).all() if r.id)
            for eid, outlet in self.session.exec(
                    select(EventSourceRow.event_id, EventSourceRow.outlet).where(
                        col(EventSourceRow.event_id).in_(joined))).all():
                outlets.setdefault(eid, set()).add(outlet)
        pairs = {(eid, item.id) for eid, item, _, _ in sources if eid in joined}
        existing: set[tuple[int, int]] = set()
        if pairs:
            existing = {(e, i) for e, i in self.session.exec(
                select(EventSourceRow.event_id, EventSourceRow.item_id).where(
                    col(EventSourceRow.event_id).in_({e for e, _ in pairs}),
                    col(EventSourceRow.item_id).in_({i for _, i in pairs}))).all()}
        added = 0
        for eid, item, ev, note in sources:
            if (eid, item.id) in existing:
                continue
            existing.add((eid, item.id))
            self.session.add(EventSourceRow(
                event_id=eid, item_id=item.id, outlet=item.outlet, url=item.link,
                published=item.published, fetched=now, sentence=ev.sentence,
                evidence=json.dumps(list(ev.evidence), ensure_ascii=False), status=ev.status,
                recap=ev.recap, reason=note.reason if note else None))
            seen = outlets.setdefault(eid, set())
            self._merge_source(events[eid], item, ev, now, new_outlet=item.outlet not in seen,
                               note=note)
            seen.add(item.outlet)
            added += 1
        queued = self._enqueue_alerts([(real(ref), chat, wl) for ref, chat, wl in batch.alerts],
                                      now)
        self.session.flush()
        return BatchResult([ids[n.ref] for n in batch.new_events], added, queued)

    def _merge_source(self, row: EventRow, item: StoredItem, ev: DetectedEvent,
                      now: datetime, *, new_outlet: bool = True,
                      note: SourceNote | None = None) -> None:
        assert row.id is not None
        row.source_count += 1
        row.outlet_count += 1 if new_outlet else 0
        row.updated_at = now
        if item.published is not None and (row.first_reported is None
                                           or item.published < row.first_reported):
            row.first_reported = item.published
        if note is not None:
            known_figures = json.loads(row.figures or "[]")
            if any(f not in known_figures for f in note.figures):
                row.figures = json.dumps([*known_figures, *(f for f in note.figures
                                                            if f not in known_figures)])
            kept = json.loads(row.sentences or "[]")
            fresh_sentences = [t for t in note.sentences if t not in kept]
            if fresh_sentences and len(kept) < _SENTENCES_KEPT:
                row.sentences = json.dumps([*kept, *fresh_sentences][:_SENTENCES_KEPT],
                                           ensure_ascii=False)
        if row.status != ev.status and not ev.recap and ev.status in ("confirmed", "denied"):
            row.status = ev.status
            self.session.add(EventStatusRow(event_id=row.id, status=ev.status, at=now,
                                            item_id=item.id))
        known = {e["id"] for e in json.loads(row.entities)}
        fresh = [e for e in _unique_entities(ev.entities) if e.id not in known]
        if fresh:
            merged = [*json.loads(row.entities), *(e.__dict__ for e in fresh)]
            row.entities = json.dumps(merged, ensure_ascii=False)
            row.entity_keys = _entity_keys([EntityRef(**e) for e in merged])
            self.session.add_all(EventEntityRow(event_id=row.id, entity_id=e.id, role=e.role,
                                                sort_date=row.sort_date) for e in fresh)
        self.session.add(row)

    def _enqueue_alerts(self, alerts: Sequence[tuple[int, str, str | None]],
                        now: datetime) -> int:
        if not alerts:
            return 0
        queued = {(e, c) for e, c in self.session.exec(
            select(OutboxRow.event_id, OutboxRow.chat_id).where(
                col(OutboxRow.event_id).in_({e for e, _, _ in alerts}),
                OutboxRow.kind == "alert")).all()}
        n = 0
        for event_id, chat, watchlist in alerts:
            if (event_id, chat) in queued:
                continue
            queued.add((event_id, chat))
            self.session.add(OutboxRow(event_id=event_id, chat_id=chat, kind="alert",
                                       watchlist=watchlist, next_attempt_at=now,
                                       created_at=now))
            n += 1
        return n

    def events_of_items(self, item_ids: Collection[int]) -> dict[int, list[TimelineEvent]]:
        """The timeline events each of these items is a source of, by item id."""
        out: dict[int, list[TimelineEvent]] = {}
        if not item_ids:
            return out
        rows = self.session.exec(
            select(EventSourceRow.item_id, EventRow)
            .join(EventRow, col(EventRow.id) == EventSourceRow.event_id)
            .where(col(EventSourceRow.item_id).in_(list(item_ids)))
        ).all()
        for item_id, row in rows:
            out.setdefault(item_id, []).append(_event_view(row))
        return out

    def mark_alerted(self, event_id: int) -> None:
        self.session.execute(update(EventRow).where(col(EventRow.id) == event_id)
                             .values(alerted=True))
