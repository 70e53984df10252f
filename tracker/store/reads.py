"""The store's reads for people: the timeline with its sources, stored items with their
types, recent events, and analysts' corrections (statements in :mod:`.labels`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import col, select

from tracker.model import (
    SourceView,
    TimelineEntry,
    TimelineEvent,
)
from tracker.store.tables import (
    EventEntityRow,
    EventRow,
    EventSourceRow,
    FeedRow,
    ItemRow,
    OutboxRow,
)
from tracker.store.tx import StoreBase, Tx
from tracker.store.values import StoredItem
from tracker.store.views import event_view as _event_view

if TYPE_CHECKING:
    from tracker.store.labels import LabelView


class Reads(StoreBase):
    """The reading part of :class:`~tracker.store.repo.Store`."""

    def timeline(
        self, *, entity: str | None = None, types: Sequence[str] = (),
        since: datetime | None = None, until: datetime | None = None,
        statuses: Sequence[str] = (), limit: int | None = 200, newest_first: bool = True,
    ) -> list[TimelineEntry]:
        """Timeline events with their sources, filtered; by entity through its index."""
        with self.tx() as tx:
            q = select(EventRow)
            date_col = col(EventRow.sort_date)
            if entity:
                q = q.join(EventEntityRow, col(EventEntityRow.event_id) == EventRow.id).where(
                    EventEntityRow.entity_id == entity)
                date_col = col(EventEntityRow.sort_date)
            if types:
                q = q.where(col(EventRow.type).in_(types))
            if statuses:
                q = q.where(col(EventRow.status).in_(statuses))
            if since is not None:
                q = q.where(date_col >= since)
            if until is not None:
                q = q.where(date_col < until)
            q = q.order_by(date_col.desc() if newest_first else date_col, col(EventRow.id))
            if limit is not None:
                q = q.limit(limit)
            events = [_event_view(r) for r in tx.session.exec(q).all()]
            sources = self._sources_of(tx, [e.id for e in events])
            return [TimelineEntry(e, sources.get(e.id, ())) for e in events]

    @staticmethod
    def _sources_of(tx: Tx, event_ids: Sequence[int]) -> dict[int, tuple[SourceView, ...]]:
        out: dict[int, list[SourceView]] = {}
        for chunk in range(0, len(event_ids), 500):
            ids = event_ids[chunk:chunk + 500]
            rows = tx.session.exec(
                select(EventSourceRow, ItemRow.title)
                .join(ItemRow, col(ItemRow.id) == EventSourceRow.item_id)
                .where(col(EventSourceRow.event_id).in_(ids))
                .order_by(col(EventSourceRow.fetched), col(EventSourceRow.id))
            ).all()
            for src, title in rows:
                out.setdefault(src.event_id, []).append(
                    SourceView(src.outlet, src.url, src.published, src.fetched, title))
        return {k: tuple(v) for k, v in out.items()}

    def stored_items(self, since: datetime) -> list[tuple[StoredItem, frozenset[str], bool]]:
        """Distinct items first seen since ``since``: (item, its event types, alerted?)."""
        with self.tx() as tx:
            rows = tx.session.exec(
                select(ItemRow, FeedRow.name).join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
                .where(ItemRow.first_seen >= since, col(ItemRow.duplicate_of).is_(None))
                .order_by(col(ItemRow.first_seen), col(ItemRow.id))
            ).all()
            ids = [r.id for r, _ in rows if r.id is not None]
            types: dict[int, set[str]] = {}
            alerted: set[int] = set()
            for chunk in range(0, len(ids), 500):
                part = ids[chunk:chunk + 500]
                for item_id, etype, event_id in tx.session.exec(
                    select(EventSourceRow.item_id, EventRow.type, EventRow.id)
                    .join(EventRow, col(EventRow.id) == EventSourceRow.event_id)
                    .where(col(EventSourceRow.item_id).in_(part))
                ).all():
                    types.setdefault(item_id, set()).add(etype)
                    first = tx.session.exec(
                        select(EventSourceRow.item_id).where(EventSourceRow.event_id == event_id)
                        .order_by(col(EventSourceRow.id)).limit(1)).first()
                    has_alert = tx.session.exec(select(OutboxRow.id).where(
                        OutboxRow.event_id == event_id, OutboxRow.kind == "alert")).first()
                    if first == item_id and has_alert is not None:
                        alerted.add(item_id)
            out = []
            for r, outlet in rows:
                assert r.id is not None
                item = StoredItem(id=r.id, feed_id=r.feed_id, outlet=outlet, title=r.title,
                                  summary=r.summary, content=r.content, link=r.link,
                                  published=r.published, date_status=r.date_status,
                                  first_seen=r.first_seen)
                out.append((item, frozenset(types.get(r.id, ())), r.id in alerted))
            return out

    # --- analysts' corrections (statements in tracker.store.labels) ---------------------
    def record_item_label(self, item_id: int, types: Sequence[str], *, source: str,
                          chat_id: str | None, now: datetime) -> int:
        """A whole-item label (empty ``types``: not an event); see :mod:`.labels`."""
        from tracker.store import labels

        return labels.record_item_label(self, item_id, types, source=source, chat_id=chat_id,
                                        now=now)

    def record_event_feedback(self, event_id: int, verdict: str, *, new_type: str | None,
                              source: str, chat_id: str | None, now: datetime) -> int:
        """A verdict on an event (confirm, not_event, other_type); see :mod:`.labels`."""
        from tracker.store import labels

        return labels.record_event_feedback(self, event_id, verdict, new_type=new_type,
                                            source=source, chat_id=chat_id, now=now)

    def labels(self) -> list[LabelView]:
        """Every stored correction, oldest first."""
        from tracker.store import labels

        return labels.labels(self)

    def recent_events(self, limit: int = 50, entity: str | None = None) -> list[TimelineEvent]:
        with self.tx() as tx:
            q = select(EventRow).order_by(col(EventRow.sort_date).desc()).limit(limit)
            if entity:
                q = q.where(col(EventRow.entity_keys).contains(f" {entity} "))
            return [_event_view(r) for r in tx.session.exec(q).all()]
