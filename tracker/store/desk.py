"""The desk's reads: items, event pages, feed states, search, paging, the installation id.

:class:`DeskStore` wraps a :class:`~tracker.store.repo.Store` and answers the
:class:`tracker.web.data.DeskData` protocol (the web edge never imports this module; the
CLI and ``app.py`` pass one in). Search keeps ``item_search`` up to date in batches
(:meth:`DeskStore.refresh_search`) and asks SQLite's FTS5 index or PostgreSQL's GIN index
(migration 0008) with the expression :mod:`tracker.text.search` builds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, text
from sqlmodel import col, select

from tracker.alerts.match import Rule, subscriber_rules
from tracker.model import TimelineEntry
from tracker.records import (
    EventDetail,
    FeedRecord,
    ItemDetail,
    ItemEvent,
    ItemRecord,
    SourceRecord,
    StatusChange,
    TimelineFilter,
    TimelinePage,
)
from tracker.store.repo import Store, Tx
from tracker.store.tables import (
    EventEntityRow,
    EventRow,
    EventSourceRow,
    EventStatusRow,
    FeedRow,
    InstallationRow,
    ItemRow,
    ItemSearchRow,
    LabelRow,
    OutboxRow,
)
from tracker.store.views import event_view as _event_view
from tracker.text.search import Query, fts5_expression, index_body, tsquery_expression


def _item(row: ItemRow, outlet: str, first_fetch: bool = False) -> ItemRecord:
    assert row.id is not None
    return ItemRecord(
        id=row.id, feed_id=row.feed_id, outlet=outlet, title=row.title, summary=row.summary,
        content=row.content, link=row.link, published=row.published,
        date_status=row.date_status, first_seen=row.first_seen,
        duplicate_of=row.duplicate_of, first_fetch=first_fetch)


class DeskStore:
    """Read-side queries of the desk over one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def _postgres(self) -> bool:
        return self.store.engine.dialect.name == "postgresql"

    # --- installation ------------------------------------------------------------------
    def installation_id(self) -> str:
        """This database's installation id (made by migration 0008)."""
        with self.store.tx() as tx:
            row = tx.session.exec(select(InstallationRow.id)).first()
            if row is None:  # a database created before 0008 and stripped of its row
                row = uuid.uuid4().hex
                tx.session.add(InstallationRow(id=row, created_at=datetime.now(UTC)))
            return row

    # --- timeline ----------------------------------------------------------------------
    def timeline_page(self, filters: TimelineFilter, page: int, per_page: int) -> TimelinePage:
        """One page (from 1) of the filtered timeline, newest first."""
        with self.store.tx() as tx:
            q = select(EventRow)
            date_col = col(EventRow.sort_date)
            if filters.entity:
                q = q.join(EventEntityRow, col(EventEntityRow.event_id) == EventRow.id).where(
                    EventEntityRow.entity_id == filters.entity)
                date_col = col(EventEntityRow.sort_date)
            if filters.types:
                q = q.where(col(EventRow.type).in_(filters.types))
            if filters.statuses:
                q = q.where(col(EventRow.status).in_(filters.statuses))
            if filters.since is not None:
                q = q.where(date_col >= filters.since)
            if filters.until is not None:
                q = q.where(date_col < filters.until)
            q = q.order_by(date_col.desc(), col(EventRow.id).desc())
            q = q.offset((page - 1) * per_page).limit(per_page + 1)
            rows = tx.session.exec(q).all()
            events = [_event_view(r) for r in rows[:per_page]]
            sources = Store._sources_of(tx, [e.id for e in events])
            return TimelinePage(tuple(TimelineEntry(e, sources.get(e.id, ())) for e in events),
                                page, len(rows) > per_page)

    def weeks_with_events(self, tz: str, limit: int = 8) -> list[tuple[str, int]]:
        """The ISO weeks (in ``tz``) that hold events, newest first, with their counts."""
        zone = ZoneInfo(tz)
        counts: dict[str, int] = {}
        with self.store.tx() as tx:
            dates = tx.session.exec(select(EventRow.sort_date)
                                    .order_by(col(EventRow.sort_date).desc()).limit(20000)).all()
        for when in dates:
            year, week, _ = when.astimezone(zone).isocalendar()
            key = f"{year}-W{week:02d}"
            if key not in counts and len(counts) == limit:
                break
            counts[key] = counts.get(key, 0) + 1
        return list(counts.items())

    # --- events ------------------------------------------------------------------------
    def event(self, event_id: int) -> EventDetail | None:
        with self.store.tx() as tx:
            row = tx.session.get(EventRow, event_id)
            if row is None:
                return None
            srcs = tx.session.exec(
                select(EventSourceRow, ItemRow.title)
                .join(ItemRow, col(ItemRow.id) == EventSourceRow.item_id)
                .where(EventSourceRow.event_id == event_id)
                .order_by(col(EventSourceRow.fetched), col(EventSourceRow.id))).all()
            sources = tuple(SourceRecord(
                item_id=s.item_id, outlet=s.outlet, url=s.url, title=title,
                published=s.published, fetched=s.fetched, sentence=s.sentence,
                evidence=tuple(json.loads(s.evidence)), status=s.status, recap=s.recap,
                reason=s.reason) for s, title in srcs)
            history = tuple(StatusChange(h.status, h.at, h.item_id) for h in tx.session.exec(
                select(EventStatusRow).where(EventStatusRow.event_id == event_id)
                .order_by(col(EventStatusRow.at), col(EventStatusRow.id))).all())
            parent = (tx.session.get(EventRow, row.follow_up_of)
                      if row.follow_up_of is not None else None)
            children = tx.session.exec(select(EventRow).where(
                EventRow.follow_up_of == event_id).order_by(col(EventRow.sort_date))).all()
            chats = tx.session.exec(select(OutboxRow.chat_id).where(
                OutboxRow.event_id == event_id, OutboxRow.kind == "alert")
                .order_by(col(OutboxRow.id))).all()
            return EventDetail(_event_view(row), sources, history,
                               _event_view(parent) if parent is not None else None,
                               tuple(_event_view(c) for c in children), tuple(chats))

    # --- items -------------------------------------------------------------------------
    @staticmethod
    def _item_rows(tx: Tx, where: Sequence[Any]) -> list[ItemRecord]:
        rows = tx.session.exec(
            select(ItemRow, FeedRow.name)
            .join(FeedRow, col(FeedRow.id) == ItemRow.feed_id).where(*where)
            .order_by(col(ItemRow.id).desc())).all()
        return [_item(r, name) for r, name in rows]

    def item(self, item_id: int) -> ItemDetail | None:
        with self.store.tx() as tx:
            found = self._item_rows(tx, [ItemRow.id == item_id])
            if not found:
                return None
            # the items of a feed's first fetch share its earliest first-seen time
            earliest = tx.session.exec(select(func.min(ItemRow.first_seen)).where(
                ItemRow.feed_id == found[0].feed_id)).one()
            item = replace(found[0], first_fetch=earliest == found[0].first_seen)
            events: list[ItemEvent] = []
            for src, ev in tx.session.exec(
                select(EventSourceRow, EventRow)
                .join(EventRow, col(EventRow.id) == EventSourceRow.event_id)
                .where(EventSourceRow.item_id == item_id).order_by(col(EventSourceRow.id))
            ).all():
                first = tx.session.exec(select(EventSourceRow.item_id).where(
                    EventSourceRow.event_id == ev.id).order_by(col(EventSourceRow.id))
                    .limit(1)).first()
                chats = tx.session.exec(select(OutboxRow.chat_id).where(
                    OutboxRow.event_id == ev.id, OutboxRow.kind == "alert")).all()
                events.append(ItemEvent(_event_view(ev), src.status, src.recap, src.sentence,
                                        first == item_id, tuple(chats)))
            labels = tuple(f"{lb.verdict}: {', '.join(json.loads(lb.types)) or '—'}"
                           for lb in tx.session.exec(select(LabelRow).where(
                               LabelRow.item_id == item_id).order_by(col(LabelRow.id))).all())
            return ItemDetail(item, tuple(events), labels)

    def item_by_url(self, url: str) -> int | None:
        """The newest item whose link is ``url``."""
        with self.store.tx() as tx:
            return tx.session.exec(select(ItemRow.id).where(ItemRow.link == url.strip())
                                   .order_by(col(ItemRow.id).desc()).limit(1)).first()

    def items(self, query: Query | None, page: int, per_page: int) -> tuple[list[ItemRecord],
                                                                            bool]:
        """Items newest first, those matching ``query`` when one is given; and whether more
        follow."""
        offset = (page - 1) * per_page
        with self.store.tx() as tx:
            if not query:
                ids = list(tx.session.exec(select(ItemRow.id).order_by(col(ItemRow.id).desc())
                                           .offset(offset).limit(per_page + 1)).all())
            elif self._postgres:
                ids = [r[0] for r in tx.session.execute(text(
                    "SELECT item_id FROM item_search WHERE to_tsvector('simple', body) @@ "
                    "to_tsquery('simple', :q) ORDER BY item_id DESC OFFSET :o LIMIT :n"),
                    {"q": tsquery_expression(query), "o": offset, "n": per_page + 1}).all()]
            else:
                ids = [r[0] for r in tx.session.execute(text(
                    "SELECT rowid FROM item_fts WHERE item_fts MATCH :q "
                    "ORDER BY rowid DESC LIMIT :n OFFSET :o"),
                    {"q": fts5_expression(query), "o": offset, "n": per_page + 1}).all()]
            more = len(ids) > per_page
            wanted = [i for i in ids[:per_page] if i is not None]
            if not wanted:
                return [], False
            return self._item_rows(tx, [col(ItemRow.id).in_(wanted)]), more

    def refresh_search(self, batch: int = 2000, max_batches: int | None = None) -> int:
        """Index the items stored since the last call; returns how many were indexed."""
        done = 0
        while max_batches is None or max_batches > 0:
            if max_batches is not None:
                max_batches -= 1
            with self.store.tx() as tx:
                last = tx.session.exec(select(func.max(ItemSearchRow.item_id))).one() or 0
                rows = tx.session.exec(select(ItemRow.id, ItemRow.title, ItemRow.summary)
                                       .where(col(ItemRow.id) > last)
                                       .order_by(col(ItemRow.id)).limit(batch)).all()
                if not rows:
                    return done
                ids = [r[0] for r in rows]
                entities: dict[int, set[str]] = {}
                for item_id, eid in tx.session.exec(
                    select(EventSourceRow.item_id, EventEntityRow.entity_id)
                    .join(EventEntityRow,
                          col(EventEntityRow.event_id) == EventSourceRow.event_id)
                    .where(col(EventSourceRow.item_id).in_(ids))).all():
                    entities.setdefault(item_id, set()).add(eid)
                statement = insert(ItemSearchRow)
                if tx.session.get_bind().dialect.name == "postgresql":
                    # processes of a cluster index after their own cycles: one may have
                    # indexed these rows since this one read the high-water mark
                    from sqlalchemy.dialects.postgresql import insert as pg_insert

                    statement = pg_insert(ItemSearchRow).on_conflict_do_nothing()
                tx.session.execute(statement, [
                    {"item_id": i, "body": index_body((t, s), entities.get(i, ()))}
                    for i, t, s in rows if i is not None])
                done += len(rows)
        return done

    def instant_subscribers(
        self,
    ) -> list[tuple[str, frozenset[Rule], datetime | None]]:
        """(chat, watch rules, muted_until) of every instant-mode subscriber: its entity,
        type and entity-with-type rules, as the pipeline matches them."""
        with self.store.tx() as tx:
            return [(s.chat_id, subscriber_rules(s.events, s.entities, s.pairs), s.muted_until)
                    for s in tx.subscriptions() if s.mode == "instant"]

    # --- feeds -------------------------------------------------------------------------
    def feeds(self) -> list[FeedRecord]:
        with self.store.tx() as tx:
            counts = dict(tx.session.exec(select(ItemRow.feed_id, func.count())
                                          .group_by(col(ItemRow.feed_id))).all())
            out = []
            for r in tx.session.exec(select(FeedRow).order_by(col(FeedRow.active).desc(),
                                                             col(FeedRow.id))).all():
                assert r.id is not None
                out.append(FeedRecord(
                    id=r.id, url=r.url, name=r.name, active=r.active,
                    interval=timedelta(seconds=r.interval_seconds),
                    final_url=r.final_url if r.final_url and r.final_url != r.url else None,
                    last_polled_at=r.last_polled_at, last_success_at=r.last_success_at,
                    next_poll_at=r.next_poll_at, last_new_item_at=r.last_new_item_at,
                    consecutive_failures=r.consecutive_failures, last_error=r.last_error,
                    last_error_kind=r.last_error_kind, health=r.health,
                    health_reasons=r.health_reasons, items=int(counts.get(r.id, 0))))
            return out

    # --- analysts' corrections ---------------------------------------------------------
    def record_label(self, item_id: int, types: Sequence[str], now: datetime) -> int:
        """A label from the desk: the item carries ``types`` (empty: no event)."""
        return self.store.record_item_label(item_id, types, source="web", chat_id=None, now=now)
