"""Every statement tracker runs against its database.

:class:`Store` opens units of work; a :class:`Tx` is one transaction. The pipeline does its
pure work between ``Tx`` calls and commits once per feed, so an item, the events it yields and
the outbox rows of their alerts land together or not at all.

Claims (due feeds, outbox rows) take a lease: ``lease_owner`` and ``lease_expires``. On
PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent
processes never claim the same row; a lease that expired (its owner died) is claimable again.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from tracker.errors import StoreError
from tracker.model import (
    DetectedEvent,
    EntityRef,
    EventDate,
    FeedEntry,
    SourceView,
    TimelineEntry,
    TimelineEvent,
)
from tracker.store.tables import (
    EventEntityRow,
    EventRow,
    EventSourceRow,
    EventStatusRow,
    FeedRow,
    ItemRow,
    OutboxRow,
    SubscriberRow,
    WatchRuleRow,
)
from tracker.text.normalize import match_key


@dataclass(frozen=True)
class FeedView:
    id: int
    url: str
    name: str
    interval: timedelta
    timezone: str | None
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    fetch_count: int
    next_poll_at: datetime | None
    last_error: str | None
    last_success_at: datetime | None
    active: bool
    created_at: datetime | None = None
    last_new_item_at: datetime | None = None
    health: str | None = None


@dataclass(frozen=True)
class StoredItem:
    id: int
    feed_id: int
    outlet: str
    title: str
    summary: str
    content: str
    link: str | None
    published: datetime | None
    date_status: str
    first_seen: datetime


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    chat_id: str
    kind: str
    watchlist: str | None
    attempts: int
    event: TimelineEvent | None
    sources: tuple[SourceView, ...]
    message_id: str | None
    payload: str | None = None  # the text of a notice (kind "notice")


@dataclass(frozen=True)
class Subscription:
    chat_id: str
    lang: str
    mode: str
    muted_until: datetime | None
    events: frozenset[str]
    entities: frozenset[str]


def _feed_view(row: FeedRow) -> FeedView:
    assert row.id is not None
    return FeedView(
        id=row.id, url=row.url, name=row.name, interval=timedelta(seconds=row.interval_seconds),
        timezone=row.timezone, etag=row.etag, last_modified=row.last_modified,
        consecutive_failures=row.consecutive_failures, fetch_count=row.fetch_count,
        next_poll_at=row.next_poll_at, last_error=row.last_error,
        last_success_at=row.last_success_at, active=row.active, created_at=row.created_at,
        last_new_item_at=row.last_new_item_at, health=row.health,
    )


def _event_view(row: EventRow) -> TimelineEvent:
    assert row.id is not None
    entities = tuple(EntityRef(**e) for e in json.loads(row.entities))
    date = EventDate(row.event_date, row.precision) if row.event_date and row.precision else None  # type: ignore[arg-type]
    return TimelineEvent(
        id=row.id, type=row.type, headline=row.headline, entities=entities, event_date=date,
        sort_date=row.sort_date, status=row.status, first_seen=row.first_seen,
        first_outlet=row.first_outlet, source_count=row.source_count, alerted=row.alerted,
        evidence=tuple(json.loads(row.evidence)),
    )


def _entity_keys(entities: Sequence[EntityRef]) -> str:
    return " " + " ".join(sorted({e.id for e in entities})) + " "


class Tx:
    """One transaction. Methods flush but never commit; the owning ``Store`` commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- feeds ------------------------------------------------------------------------
    def feed(self, feed_id: int) -> FeedView:
        row = self.session.get(FeedRow, feed_id)
        if row is None:
            raise StoreError(f"no feed {feed_id}")
        return _feed_view(row)

    def record_fetch(
        self, feed_id: int, *, now: datetime, next_poll_at: datetime, etag: str | None,
        last_modified: str | None, final_url: str | None, new_items: int,
    ) -> None:
        row = self.session.get(FeedRow, feed_id)
        assert row is not None
        row.etag, row.last_modified = etag, last_modified
        row.final_url = final_url or row.final_url
        row.last_polled_at = row.last_success_at = now
        row.next_poll_at = next_poll_at
        row.consecutive_failures = 0
        row.last_error = row.last_error_kind = None
        row.fetch_count += 1
        row.lease_owner = row.lease_expires = None
        if new_items:
            row.last_new_item_at = now
        self.session.add(row)

    def record_failure(
        self, feed_id: int, *, now: datetime, next_poll_at: datetime, kind: str, message: str
    ) -> int:
        row = self.session.get(FeedRow, feed_id)
        assert row is not None
        row.last_polled_at = now
        row.next_poll_at = next_poll_at
        row.consecutive_failures += 1
        row.last_error_kind, row.last_error = kind, message[:2000]
        row.lease_owner = row.lease_expires = None
        self.session.add(row)
        return row.consecutive_failures

    def recent_pub_times(self, feed_id: int, n: int = 20) -> tuple[datetime, ...]:
        """Publication times of the feed's ``n`` newest dated items."""
        rows = self.session.exec(
            select(ItemRow.published).where(ItemRow.feed_id == feed_id,
                                             col(ItemRow.published).is_not(None))
            .order_by(col(ItemRow.published).desc()).limit(n)
        ).all()
        return tuple(r for r in rows if r is not None)

    def set_health(self, feed_id: int, health: str, reasons: str) -> None:
        self.session.execute(update(FeedRow).where(col(FeedRow.id) == feed_id)
                             .values(health=health, health_reasons=reasons[:2000]))

    def enqueue_notice(self, chat_id: str, text: str, now: datetime) -> None:
        """Queue an operator notice (not tied to an event)."""
        self.session.add(OutboxRow(event_id=None, chat_id=chat_id, kind="notice",
                                   payload=text, next_attempt_at=now, created_at=now))

    # --- items ------------------------------------------------------------------------
    def insert_items(
        self, feed_id: int, outlet: str, entries: Sequence[FeedEntry], now: datetime,
        duplicate_window: timedelta = timedelta(days=3),
    ) -> tuple[list[StoredItem], int]:
        """Store the entries not seen before; returns (new distinct items, exact duplicates).

        An entry whose key this feed already has is skipped. An entry whose canonical link or
        normalised title another item already has (within ``duplicate_window``) is stored as
        a duplicate and not returned, so it is never classified or alerted twice.
        """
        if not entries:
            return [], 0
        keys = [e.key for e in entries]
        known = set(self.session.exec(
            select(ItemRow.key).where(ItemRow.feed_id == feed_id, col(ItemRow.key).in_(keys))
        ).all())
        since = now - duplicate_window
        todo: list[tuple[FeedEntry, str]] = []
        seen_keys: set[str] = set()
        for entry in entries:
            if entry.key in known or entry.key in seen_keys:
                continue
            seen_keys.add(entry.key)
            todo.append((entry, match_key(entry.title)[:500]))
        earlier = self._earlier_copies(todo, since)
        originals: list[ItemRow] = []
        copies: list[tuple[ItemRow, ItemRow | int]] = []  # (row, the item it copies)
        first_of: dict[str, ItemRow] = {}  # a copy inside this batch is a duplicate too
        for entry, title_key in todo:
            marks = [m for m in (f"l:{entry.link}" if entry.link else "",
                                 f"t:{title_key}" if len(title_key) >= 12 else "") if m]
            row = ItemRow(
                feed_id=feed_id, key=entry.key[:1000], guid=entry.guid, link=entry.link,
                title=entry.title, title_key=title_key, summary=entry.summary,
                content=entry.content, published=entry.published, date_status=entry.date_status,
                first_seen=now,
            )
            copied = next((earlier[m] for m in marks if m in earlier), None) or next(
                (first_of[m] for m in marks if m in first_of), None)
            if copied is None:
                originals.append(row)
                for m in marks:
                    first_of.setdefault(m, row)
            else:
                copies.append((row, copied))
        self.session.add_all(originals)
        self.session.flush()
        for row, copied in copies:
            row.duplicate_of = copied if isinstance(copied, int) else copied.id
        self.session.add_all(row for row, _ in copies)
        self.session.flush()
        fresh = []
        for row in originals:
            assert row.id is not None
            fresh.append(StoredItem(
                id=row.id, feed_id=feed_id, outlet=outlet, title=row.title, summary=row.summary,
                content=row.content, link=row.link, published=row.published,
                date_status=row.date_status, first_seen=now,
            ))
        return fresh, len(copies)

    def _earlier_copies(
        self, todo: Sequence[tuple[FeedEntry, str]], since: datetime
    ) -> dict[str, int]:
        """Stored items (within the window) with the same link or title key, by mark."""
        links = [e.link for e, _ in todo if e.link]
        titles = [t for _, t in todo if len(t) >= 12]
        found: dict[str, int] = {}
        for chunk in range(0, max(len(links), len(titles)), 400):
            conditions: list[ColumnElement[bool]] = []
            if links[chunk:chunk + 400]:
                conditions.append(col(ItemRow.link).in_(links[chunk:chunk + 400]))
            if titles[chunk:chunk + 400]:
                conditions.append(col(ItemRow.title_key).in_(titles[chunk:chunk + 400]))
            if not conditions:
                continue
            for item_id, link, title_key in self.session.exec(
                select(ItemRow.id, ItemRow.link, ItemRow.title_key).where(
                    or_(*conditions), ItemRow.first_seen >= since,
                    col(ItemRow.duplicate_of).is_(None))
            ).all():
                assert item_id is not None
                if link:
                    found.setdefault(f"l:{link}", item_id)
                found.setdefault(f"t:{title_key}", item_id)
        return found

    # --- timeline ---------------------------------------------------------------------
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

    def create_event(
        self, ev: DetectedEvent, *, headline: str, sort_date: datetime, now: datetime,
        outlet: str, follow_up_of: int | None = None,
    ) -> int:
        first: dict[str, EntityRef] = {}
        for e in ev.entities:
            first.setdefault(e.id, e)  # an entity once, with its first (most telling) role
        ev = replace(ev, entities=tuple(first.values()))
        row = EventRow(
            type=ev.type, headline=headline,
            event_date=ev.event_date.value if ev.event_date else None,
            precision=ev.event_date.precision if ev.event_date else None,
            sort_date=sort_date, status=ev.status, confidence=ev.confidence,
            entities=json.dumps([e.__dict__ for e in ev.entities], ensure_ascii=False),
            entity_keys=_entity_keys(ev.entities),
            evidence=json.dumps(list(ev.evidence), ensure_ascii=False),
            first_seen=now, first_outlet=outlet, source_count=0, follow_up_of=follow_up_of,
            updated_at=now,
        )
        self.session.add(row)
        self.session.flush()
        assert row.id is not None
        for e in {e.id: e for e in ev.entities}.values():
            self.session.add(EventEntityRow(event_id=row.id, entity_id=e.id, role=e.role,
                                            sort_date=sort_date))
        self.session.add(EventStatusRow(event_id=row.id, status=ev.status, at=now))
        return row.id

    def add_source(
        self, event_id: int, item: StoredItem, ev: DetectedEvent, now: datetime
    ) -> bool:
        """Attach ``item`` as a source of the event; False when it already was one."""
        exists = self.session.exec(
            select(EventSourceRow.id).where(EventSourceRow.event_id == event_id,
                                            EventSourceRow.item_id == item.id)
        ).first()
        if exists is not None:
            return False
        self.session.add(EventSourceRow(
            event_id=event_id, item_id=item.id, outlet=item.outlet, url=item.link,
            published=item.published, fetched=now, sentence=ev.sentence,
            evidence=json.dumps(list(ev.evidence), ensure_ascii=False), status=ev.status,
            recap=ev.recap,
        ))
        row = self.session.get(EventRow, event_id)
        assert row is not None
        row.source_count += 1
        row.updated_at = now
        if row.status != ev.status and not ev.recap and ev.status in ("confirmed", "denied"):
            row.status = ev.status
            self.session.add(EventStatusRow(event_id=event_id, status=ev.status, at=now,
                                            item_id=item.id))
        known = {e["id"] for e in json.loads(row.entities)}
        added = list({e.id: e for e in ev.entities if e.id not in known}.values())
        if added:
            merged = [*json.loads(row.entities), *(e.__dict__ for e in added)]
            row.entities = json.dumps(merged, ensure_ascii=False)
            row.entity_keys = _entity_keys([EntityRef(**e) for e in merged])
            for e in added:
                self.session.add(EventEntityRow(event_id=event_id, entity_id=e.id, role=e.role,
                                                sort_date=row.sort_date))
        self.session.add(row)
        self.session.flush()
        return True

    def items_after(self, last_id: int, since: datetime) -> list[tuple[int, str, datetime]]:
        """(id, title + summary, first seen) of distinct items newer than ``last_id``."""
        rows = self.session.exec(
            select(ItemRow.id, ItemRow.title, ItemRow.summary, ItemRow.first_seen)
            .where(col(ItemRow.id) > last_id, ItemRow.first_seen >= since,
                   col(ItemRow.duplicate_of).is_(None))
            .order_by(col(ItemRow.id))
        ).all()
        return [(i, f"{t} {s}", seen) for i, t, s, seen in rows if i is not None]

    def events_of_items(self, item_ids: Sequence[int]) -> list[TimelineEvent]:
        """The timeline events that these items are sources of."""
        if not item_ids:
            return []
        rows = self.session.exec(
            select(EventRow).join(EventSourceRow, col(EventSourceRow.event_id) == EventRow.id)
            .where(col(EventSourceRow.item_id).in_(item_ids)).distinct()
        ).all()
        return [_event_view(r) for r in rows]

    def mark_alerted(self, event_id: int) -> None:
        self.session.execute(update(EventRow).where(col(EventRow.id) == event_id)
                             .values(alerted=True))

    # --- alerts -----------------------------------------------------------------------
    def enqueue(
        self, event_id: int | None, chat_id: str, now: datetime, *, kind: str = "alert",
        watchlist: str | None = None,
    ) -> bool:
        """Queue a message unless the same (event, chat, kind) is queued already."""
        if event_id is not None:
            exists = self.session.exec(
                select(OutboxRow.id).where(OutboxRow.event_id == event_id,
                                           OutboxRow.chat_id == chat_id, OutboxRow.kind == kind)
            ).first()
            if exists is not None:
                return False
        self.session.add(OutboxRow(event_id=event_id, chat_id=chat_id, kind=kind,
                                   watchlist=watchlist, next_attempt_at=now, created_at=now))
        self.session.flush()
        return True

    def subscriptions(self) -> list[Subscription]:
        subs = self.session.exec(select(SubscriberRow).where(SubscriberRow.active)).all()
        rules = self.session.exec(select(WatchRuleRow)).all()
        by_sub: dict[int, list[WatchRuleRow]] = {}
        for r in rules:
            by_sub.setdefault(r.subscriber_id, []).append(r)
        out = []
        for s in subs:
            assert s.id is not None
            mine = by_sub.get(s.id, [])
            out.append(Subscription(
                chat_id=s.chat_id, lang=s.lang, mode=s.mode, muted_until=s.muted_until,
                events=frozenset(r.value for r in mine if r.kind == "event"),
                entities=frozenset(r.value for r in mine if r.kind == "entity"),
            ))
        return out


class Store:
    """Opens transactions and runs the claims that span several rows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        """A transaction: commits when the block ends, rolls back when it raises."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield Tx(session)
                session.commit()
        except IntegrityError as exc:
            raise StoreError(f"conflicting write: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc}") from exc

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    # --- feeds ------------------------------------------------------------------------
    def sync_feeds(self, feeds: Sequence[object], now: datetime) -> None:
        """Make the active feed rows match the config: add new ones, deactivate removed."""
        from tracker.config import FeedConfig  # a value type; no I/O

        with self.tx() as tx:
            rows = {r.url: r for r in tx.session.exec(select(FeedRow)).all()}
            wanted: dict[str, FeedConfig] = {}
            for f in feeds:
                assert isinstance(f, FeedConfig)
                wanted[f.url] = f
            for url, f in wanted.items():
                row = rows.get(url)
                if row is None:
                    row = FeedRow(url=url, name=f.name,
                                  interval_seconds=int(f.interval.total_seconds()),
                                  timezone=f.timezone, next_poll_at=now, created_at=now)
                else:
                    if not row.active:
                        row.next_poll_at = now
                    row.name, row.timezone = f.name, f.timezone
                    row.interval_seconds = int(f.interval.total_seconds())
                    row.active = True
                tx.session.add(row)
            for url, row in rows.items():
                if url not in wanted and row.active:
                    row.active = False
                    tx.session.add(row)

    def feeds(self, active_only: bool = True) -> list[FeedView]:
        with self.tx() as tx:
            q = select(FeedRow).order_by(col(FeedRow.id))
            if active_only:
                q = q.where(FeedRow.active)
            return [_feed_view(r) for r in tx.session.exec(q).all()]

    def claim_due_feeds(
        self, owner: str, now: datetime, lease: timedelta, limit: int,
        only_ids: Sequence[int] | None = None, ignore_schedule: bool = False,
    ) -> list[FeedView]:
        """Lease up to ``limit`` active feeds that are due and not leased by a live owner."""
        with self.tx() as tx:
            q = select(FeedRow).where(FeedRow.active, or_(
                col(FeedRow.lease_expires).is_(None), col(FeedRow.lease_expires) < now))
            if not ignore_schedule:
                q = q.where(or_(col(FeedRow.next_poll_at).is_(None),
                                col(FeedRow.next_poll_at) <= now))
            if only_ids is not None:
                q = q.where(col(FeedRow.id).in_(only_ids))
            q = q.order_by(col(FeedRow.next_poll_at)).limit(limit)
            if self._postgres:
                q = q.with_for_update(skip_locked=True)
            rows = tx.session.exec(q).all()
            for r in rows:
                r.lease_owner, r.lease_expires = owner, now + lease
                tx.session.add(r)
            return [_feed_view(r) for r in rows]

    def release_feed(self, feed_id: int, owner: str) -> None:
        with self.tx() as tx:
            tx.session.execute(update(FeedRow).where(
                col(FeedRow.id) == feed_id, col(FeedRow.lease_owner) == owner
            ).values(lease_owner=None, lease_expires=None))

    # --- outbox -----------------------------------------------------------------------
    def claim_outbox(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxMessage]:
        """Lease due pending messages, oldest first."""
        with self.tx() as tx:
            q = (select(OutboxRow)
                 .where(OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now,
                        or_(col(OutboxRow.lease_expires).is_(None),
                            col(OutboxRow.lease_expires) < now))
                 .order_by(col(OutboxRow.id)).limit(limit))
            if self._postgres:
                q = q.with_for_update(skip_locked=True)
            rows = tx.session.exec(q).all()
            out = []
            for r in rows:
                r.lease_owner, r.lease_expires = owner, now + lease
                tx.session.add(r)
                assert r.id is not None
                event: TimelineEvent | None = None
                sources: tuple[SourceView, ...] = ()
                if r.event_id is not None:
                    ev_row = tx.session.get(EventRow, r.event_id)
                    assert ev_row is not None
                    event = _event_view(ev_row)
                    sources = self._sources(tx, r.event_id)
                out.append(OutboxMessage(id=r.id, chat_id=r.chat_id, kind=r.kind,
                                         watchlist=r.watchlist, attempts=r.attempts,
                                         event=event, sources=sources,
                                         message_id=r.message_id, payload=r.payload))
            return out

    @staticmethod
    def _sources(tx: Tx, event_id: int) -> tuple[SourceView, ...]:
        rows = tx.session.exec(
            select(EventSourceRow).where(EventSourceRow.event_id == event_id)
            .order_by(col(EventSourceRow.fetched), col(EventSourceRow.id))
        ).all()
        return tuple(SourceView(r.outlet, r.url, r.published, r.fetched) for r in rows)

    def mark_sent(self, outbox_id: int, owner: str, now: datetime,
                  message_id: str | None = None) -> None:
        with self.tx() as tx:
            row = tx.session.get(OutboxRow, outbox_id)
            assert row is not None
            row.state, row.sent_at, row.message_id = "sent", now, message_id
            row.attempts += 1
            row.lease_owner = row.lease_expires = None
            tx.session.add(row)
            if row.event_id is not None:
                tx.mark_alerted(row.event_id)

    def mark_retry(self, outbox_id: int, error: str, next_attempt_at: datetime,
                   give_up: bool = False) -> None:
        with self.tx() as tx:
            row = tx.session.get(OutboxRow, outbox_id)
            assert row is not None
            row.attempts += 1
            row.last_error = error[:2000]
            row.next_attempt_at = next_attempt_at
            row.state = "failed" if give_up else "pending"
            row.lease_owner = row.lease_expires = None
            tx.session.add(row)

    def outbox_counts(self) -> dict[str, int]:
        with self.tx() as tx:
            rows = tx.session.exec(
                select(OutboxRow.state, func.count()).group_by(OutboxRow.state)
            ).all()
            return {state: int(n) for state, n in rows}

    # --- reads ------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self.tx() as tx:
            return {
                "feeds": tx.session.exec(select(func.count()).select_from(FeedRow)).one(),
                "items": tx.session.exec(select(func.count()).select_from(ItemRow)).one(),
                "events": tx.session.exec(select(func.count()).select_from(EventRow)).one(),
                "sources": tx.session.exec(
                    select(func.count()).select_from(EventSourceRow)).one(),
                "outbox": tx.session.exec(select(func.count()).select_from(OutboxRow)).one(),
            }

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

    def recent_events(self, limit: int = 50, entity: str | None = None) -> list[TimelineEvent]:
        with self.tx() as tx:
            q = select(EventRow).order_by(col(EventRow.sort_date).desc()).limit(limit)
            if entity:
                q = q.where(col(EventRow.entity_keys).contains(f" {entity} "))
            return [_event_view(r) for r in tx.session.exec(q).all()]
