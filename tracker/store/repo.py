"""Every statement tracker runs against its database, by responsibility.

:class:`Store` opens units of work; a :class:`Tx` is one transaction. The pipeline does its
pure work between ``Tx`` calls and commits once per feed, so an item, the events it yields and
the outbox rows of their alerts land together or not at all.

Where the statements are: :mod:`.values` (value types), :mod:`.tx` (the transaction),
:mod:`.feed_writes`, :mod:`.item_writes` and :mod:`.timeline_writes` (a transaction's
statements), :mod:`.claims` (leases on feeds and outbox rows), :mod:`.reads` (timeline and
item reads), :mod:`.candidates` (placement's candidate reads), :mod:`.labels`, :mod:`.desk`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    func,
    text,
)
from sqlmodel import col, select

from tracker.store.claims import Claims
from tracker.store.reads import Reads
from tracker.store.tables import (
    EventRow,
    EventSourceRow,
    FeedRow,
    ItemRow,
    OutboxRow,
)
from tracker.store.tx import Tx
from tracker.store.values import (
    BatchResult,
    FeedView,
    NewEvent,
    OutboxMessage,
    QuietFetch,
    SourceNote,
    StoredItem,
    Subscription,
    TimelineBatch,
    _feed_view,
)

__all__ = [
    "BatchResult", "FeedView", "NewEvent", "OutboxMessage", "QuietFetch", "SourceNote",
    "Store", "StoredItem", "Subscription", "TimelineBatch", "Tx",
]

_SYNC_LOCK = 7_245_002  # PostgreSQL advisory lock held while syncing the feed list


class Store(Claims, Reads):
    """Opens transactions and runs the statements that span several rows."""

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
