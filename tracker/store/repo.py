"""Every statement tracker runs against its database.

:class:`Store` opens units of work; a :class:`Tx` is one transaction. The pipeline does its
pure work between ``Tx`` calls and commits once per feed, so an item, the events it yields and
the outbox rows of their alerts land together or not at all.

Claims (due feeds, outbox rows) take a lease: ``lease_owner`` and ``lease_expires``. On
PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent
processes never claim the same row; a lease that expired (its owner died) is claimable again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    exists,
    func,
    insert,
    or_,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from tracker.errors import StoreError
from tracker.model import (
    DetectedEvent,
    EntityRef,
    FeedEntry,
    SourceView,
    TimelineEntry,
    TimelineEvent,
)
from tracker.store.candidates import Window, read_candidates
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
from tracker.store.views import event_view as _event_view
from tracker.text.normalize import match_key

if TYPE_CHECKING:
    from tracker.store.labels import LabelView

_SYNC_LOCK = 7_245_002  # PostgreSQL advisory lock held while syncing the feed list
_ITEMS: Table = ItemRow.metadata.tables["item"]  # the hot path writes these in Core
_FEEDS: Table = FeedRow.metadata.tables["feed"]


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
    moved_to: str | None = None  # permanent redirect target: fetched instead of ``url``
    retired_at: datetime | None = None  # 410 Gone: no longer polled
    retry_after: datetime | None = None  # the server asked us to wait until then
    last_warning: str | None = None
    last_error_kind: str | None = None
    health_reasons: str | None = None
    last_polled_at: datetime | None = None

    @property
    def fetch_url(self) -> str:
        """Where to fetch the feed: the adopted permanent redirect, else the config URL."""
        return self.moved_to or self.url


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
    wait: float = 0.0  # seconds after the claim before it may go (its chat's slot)


@dataclass(frozen=True)
class Subscription:
    chat_id: str
    lang: str
    mode: str
    muted_until: datetime | None
    events: frozenset[str]
    entities: frozenset[str]
    pairs: frozenset[tuple[str, str]] = frozenset()  # rules naming an entity and a type


def _feed_view(row: FeedRow) -> FeedView:
    assert row.id is not None
    return FeedView(
        id=row.id, url=row.url, name=row.name, interval=timedelta(seconds=row.interval_seconds),
        timezone=row.timezone, etag=row.etag, last_modified=row.last_modified,
        consecutive_failures=row.consecutive_failures, fetch_count=row.fetch_count,
        next_poll_at=row.next_poll_at, last_error=row.last_error,
        last_success_at=row.last_success_at, active=row.active, created_at=row.created_at,
        last_new_item_at=row.last_new_item_at, health=row.health, moved_to=row.moved_to,
        retired_at=row.retired_at, retry_after=row.retry_after, last_warning=row.last_warning,
        last_error_kind=row.last_error_kind, health_reasons=row.health_reasons,
        last_polled_at=row.last_polled_at,
    )


def _storable(text: str | None, cap: int) -> str | None:
    """Text a database accepts: no NUL (PostgreSQL refuses it in text), at most ``cap``."""
    return None if text is None else text.replace("\x00", "")[:cap]


@dataclass(frozen=True)
class QuietFetch:
    """A successful fetch that changed nothing but the feed's fetch state (a 304)."""

    feed_id: int
    now: datetime
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None
    final_url: str | None


@dataclass(frozen=True)
class NewEvent:
    """A timeline event to create; ``ref`` is a temporary negative id within its batch."""

    ref: int
    ev: DetectedEvent
    headline: str
    sort_date: datetime
    outlet: str
    follow_up_of: int | None = None
    figures: tuple[str, ...] = ()  # "unit:value" figures its first report states
    sentences: tuple[str, ...] = ()  # its first report's event sentences (title, body)
    first_entities: tuple[EntityRef, ...] = ()  # what identity reads of its entities


@dataclass(frozen=True)
class SourceNote:
    """What placement says about one source: why it joined, its figures and sentences."""

    reason: str
    figures: tuple[str, ...] = ()
    sentences: tuple[str, ...] = ()


_SENTENCES_KEPT = 6  # event sentences an event keeps for identity's similarity


@dataclass
class TimelineBatch:
    """One feed's timeline changes; event refs are real ids or a new event's ``ref``.

    ``notes`` holds, per (event ref, item id), why the source joined, the figures it
    states and its sentences (optional: a source without a note is stored without them).
    """

    new_events: list[NewEvent] = field(default_factory=list)
    sources: list[tuple[int, StoredItem, DetectedEvent]] = field(default_factory=list)
    alerts: list[tuple[int, str, str | None]] = field(default_factory=list)
    notes: dict[tuple[int, int], SourceNote] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchResult:
    event_ids: list[int]
    sources: int
    alerts: int


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
        warning: str | None = None,
    ) -> None:
        values: dict[str, object] = {
            "etag": etag, "last_modified": last_modified, "last_polled_at": now,
            "last_success_at": now, "next_poll_at": next_poll_at, "consecutive_failures": 0,
            "last_error": None, "last_error_kind": None, "lease_owner": None,
            "lease_expires": None, "fetch_count": col(FeedRow.fetch_count) + 1,
            "retry_after": None, "last_warning": _storable(warning, 2000),
        }
        if final_url:
            values["final_url"] = final_url
        if new_items:
            values["last_new_item_at"] = now
        self.session.execute(update(FeedRow).where(col(FeedRow.id) == feed_id).values(values))

    def record_fetches(self, fetches: Sequence[QuietFetch]) -> None:
        """:meth:`record_fetch` (no new items, no warning) for many feeds: one UPDATE
        statement run for each, in Core."""
        if not fetches:
            return
        c = _FEEDS.c
        when = c.last_polled_at.type
        stmt = update(_FEEDS).where(c.id == bindparam("b_id")).values(
            etag=bindparam("b_etag"), last_modified=bindparam("b_last_modified"),
            last_polled_at=bindparam("b_now", type_=when),
            last_success_at=bindparam("b_now", type_=when),
            next_poll_at=bindparam("b_next", type_=when), consecutive_failures=0,
            last_error=None, last_error_kind=None, lease_owner=None, lease_expires=None,
            fetch_count=c.fetch_count + 1, retry_after=None, last_warning=None,
            final_url=func.coalesce(bindparam("b_final_url", type_=c.final_url.type),
                                    c.final_url))
        self.session.connection().execute(stmt, [
            {"b_id": f.feed_id, "b_etag": f.etag, "b_last_modified": f.last_modified,
             "b_now": f.now, "b_next": f.next_poll_at, "b_final_url": f.final_url or None}
            for f in fetches])

    def record_failure(
        self, feed_id: int, *, now: datetime, next_poll_at: datetime, kind: str, message: str,
        retry_after: datetime | None = None, counts: bool = True,
    ) -> int:
        """Record a failed poll and release the lease; ``counts=False`` (a 429: the server is
        busy, the feed is not broken) leaves the consecutive-failure count alone."""
        row = self.session.get(FeedRow, feed_id)
        assert row is not None
        row.last_polled_at = now
        row.next_poll_at = next_poll_at
        if counts:
            row.consecutive_failures += 1
        row.last_error_kind, row.last_error = kind, _storable(message, 2000)
        row.retry_after = retry_after
        row.lease_owner = row.lease_expires = None
        self.session.add(row)
        return row.consecutive_failures

    def record_move(self, feed_id: int, moved_to: str | None) -> None:
        """Fetch the feed at ``moved_to`` from now on (a permanent redirect; None: back to
        the config URL)."""
        self.session.execute(update(FeedRow).where(col(FeedRow.id) == feed_id)
                             .values(moved_to=_storable(moved_to, 2000)))

    def retire(self, feed_id: int, now: datetime, message: str) -> None:
        """Stop polling a feed whose server said it is gone for good (HTTP 410)."""
        self.session.execute(update(FeedRow).where(col(FeedRow.id) == feed_id).values(
            retired_at=now, last_polled_at=now, last_error_kind="gone",
            last_error=_storable(message, 2000), lease_owner=None, lease_expires=None))

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
        titled = [(entry, match_key(entry.title)[:500]) for entry in entries
                  if entry.key not in known]
        mine = self._own_copies(feed_id, titled, since)
        shared = {link for link, n in Counter(e.link for e in entries if e.link).items() if n > 1}
        todo: list[tuple[FeedEntry, str]] = []
        seen_keys: set[str] = set()
        for entry, title_key in titled:
            own_link = entry.link and entry.link not in shared and f"l:{entry.link}" in mine
            if entry.key in seen_keys or own_link or (
                    len(title_key) >= 12 and f"t:{title_key}" in mine):
                continue  # this feed has it already under another GUID (GUID churn)
            seen_keys.add(entry.key)
            todo.append((entry, title_key))
        earlier = self._earlier_copies(todo, since)
        originals: list[dict[str, object]] = []
        original_entries: list[FeedEntry] = []
        copies: list[tuple[dict[str, object], int]] = []  # (row, the item it copies)
        # a copy inside this batch is a duplicate too: mark -> index in originals (negative)
        first_of: dict[str, int] = {}
        for entry, title_key in todo:
            marks = [m for m in (f"l:{entry.link}" if entry.link else "",
                                 f"t:{title_key}" if len(title_key) >= 12 else "") if m]
            row: dict[str, object] = {
                "feed_id": feed_id, "key": entry.key[:1000], "guid": entry.guid,
                "link": entry.link, "title": entry.title, "title_key": title_key,
                "summary": entry.summary, "content": entry.content,
                "published": entry.published, "date_status": entry.date_status,
                "first_seen": now, "duplicate_of": None,
            }
            copied = next((earlier[m] for m in marks if m in earlier), None) or next(
                (-1 - first_of[m] for m in marks if m in first_of), None)
            if copied is None:
                for m in marks:
                    first_of.setdefault(m, len(originals))
                originals.append(row)
                original_entries.append(entry)
            else:
                copies.append((row, copied))
        ids = self._insert_rows(originals)
        for row, copied in copies:
            row["duplicate_of"] = copied if copied > 0 else ids[-1 - copied]
        self._insert_rows([row for row, _ in copies])
        fresh = [StoredItem(
            id=item_id, feed_id=feed_id, outlet=outlet, title=entry.title,
            summary=entry.summary, content=entry.content, link=entry.link,
            published=entry.published, date_status=entry.date_status, first_seen=now,
        ) for item_id, entry in zip(ids, original_entries, strict=True)]
        return fresh, len(copies)

    def _insert_rows(self, rows: Sequence[dict[str, object]]) -> list[int]:
        """INSERT item rows in one batched statement (SQLAlchemy's insertmanyvalues) and
        return their ids in the rows' order: RETURNING, which SQLite (3.35+) and PostgreSQL
        both have, with the parameter order kept."""
        if not rows:
            return []
        result = self.session.connection().execute(
            insert(_ITEMS).returning(_ITEMS.c.id, sort_by_parameter_order=True), list(rows))
        return [int(i) for i in result.scalars().all()]

    def _own_copies(self, feed_id: int, todo: Sequence[tuple[FeedEntry, str]],
                    since: datetime) -> set[str]:
        """Marks (``l:<link>``, ``t:<title key>``) of items this feed already has: the same
        link at any time, the same normalised title within the duplicate window."""
        links = [e.link for e, _ in todo if e.link]
        titles = [t for _, t in todo if len(t) >= 12]
        marks: set[str] = set()
        for chunk in range(0, max(len(links), len(titles)), 400):
            conditions: list[ColumnElement[bool]] = []
            if links[chunk:chunk + 400]:
                conditions.append(col(ItemRow.link).in_(links[chunk:chunk + 400]))
            if titles[chunk:chunk + 400]:
                conditions.append(col(ItemRow.title_key).in_(titles[chunk:chunk + 400])
                                  & (col(ItemRow.first_seen) >= since))
            if not conditions:
                continue
            for link, title_key, seen in self.session.exec(
                select(ItemRow.link, ItemRow.title_key, ItemRow.first_seen).where(
                    ItemRow.feed_id == feed_id, or_(*conditions))
            ).all():
                if link:
                    marks.add(f"l:{link}")
                if seen >= since:
                    marks.add(f"t:{title_key}")
        return marks

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

    def items_after(self, last_id: int, since: datetime) -> list[tuple[int, str, datetime]]:
        """(id, title + summary, first seen) of items newer than ``last_id`` that are the
        source of a timeline event (the only ones near-duplicate matching can use).

        The source test is a correlated EXISTS on the event source's item index: it reads
        only the sources of the items in range, where ``IN (SELECT item_id ...)`` read every
        stored source (see bench_ingest_scale). Without a mark yet (``last_id`` 0: a new
        process) the range is the window, through the first-seen index; with one, the ids
        after it (the primary key, already in order), so neither grows with the store.
        """
        is_source = exists().where(col(EventSourceRow.item_id) == col(ItemRow.id))
        q = select(ItemRow.id, ItemRow.title, ItemRow.summary, ItemRow.first_seen).where(
            ItemRow.first_seen >= since, is_source)
        if last_id > 0:
            q = q.where(col(ItemRow.id) > last_id).order_by(col(ItemRow.id))
        rows = sorted(self.session.exec(q).all(), key=lambda r: r[0] or 0)
        return [(i, f"{t} {s}", seen) for i, t, s, seen in rows if i is not None]

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
                pairs=frozenset((e, t) for e, _, t in (r.value.partition("|") for r in mine
                                                       if r.kind == "pair") if e and t),
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
            if self._postgres:  # replicas starting together must not insert a feed twice
                tx.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SYNC_LOCK})
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
                    if not row.active:  # re-added: a fresh start (a 410 retirement too)
                        row.next_poll_at, row.retired_at = now, None
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
        honour_retry_after: bool = False, due_at: datetime | None = None,
        after_id: int | None = None,
    ) -> list[FeedView]:
        """Lease up to ``limit`` active, unretired feeds that are due at ``due_at`` (default
        ``now``; every one with ``ignore_schedule``, except those still under a server's
        Retry-After with ``honour_retry_after``) and not leased by a live owner; the most
        overdue first, or with ``after_id`` only feeds of a higher id, by id.

        The lease is taken by one UPDATE that checks again that the feed is free, so two
        processes never lease one feed even where the read takes no row locks (SQLite); a
        process that lost every candidate to another reads again. An empty answer means no
        feed is left to claim."""
        for _ in range(20):
            found, candidates = self._claim_feeds(owner, now, lease, limit, only_ids,
                                                  ignore_schedule, honour_retry_after,
                                                  now if due_at is None else due_at, after_id)
            if found or not candidates:
                return found
        return []

    def _claim_feeds(
        self, owner: str, now: datetime, lease: timedelta, limit: int,
        only_ids: Sequence[int] | None, ignore_schedule: bool, honour_retry_after: bool,
        due: datetime, after_id: int | None,
    ) -> tuple[list[FeedView], int]:
        free = or_(col(FeedRow.lease_expires).is_(None), col(FeedRow.lease_expires) < now)
        with self.tx() as tx:
            q = select(FeedRow.id).where(FeedRow.active, col(FeedRow.retired_at).is_(None),
                                         free)
            if not ignore_schedule:
                q = q.where(or_(col(FeedRow.next_poll_at).is_(None),
                                col(FeedRow.next_poll_at) <= due))
            elif honour_retry_after:  # every feed, but not one whose server asked to wait
                q = q.where(or_(col(FeedRow.retry_after).is_(None),
                                col(FeedRow.retry_after) <= now))
            if only_ids is not None:
                q = q.where(col(FeedRow.id).in_(only_ids))
            if after_id is not None:
                q = q.where(col(FeedRow.id) > after_id).order_by(col(FeedRow.id))
            else:
                q = q.order_by(col(FeedRow.next_poll_at), col(FeedRow.id))
            q = q.limit(limit)
            if self._postgres:
                q = q.with_for_update(skip_locked=True)
            ids = [i for i in tx.session.exec(q).all() if i is not None]
            if not ids:
                return [], 0
            tx.session.execute(update(FeedRow).where(col(FeedRow.id).in_(ids), free)
                               .values(lease_owner=owner, lease_expires=now + lease))
            rows = {r.id: r for r in tx.session.exec(select(FeedRow).where(
                col(FeedRow.id).in_(ids), FeedRow.lease_owner == owner)).all()}
            return [_feed_view(rows[i]) for i in ids if i in rows], len(ids)

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
