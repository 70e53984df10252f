"""Leases on feeds and outbox rows, and what a sender records of a message.

A claim takes a lease: ``lease_owner`` and ``lease_expires``. On PostgreSQL the candidate rows
are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent processes never claim the same row; a
lease that expired (its owner died) is claimable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    func,
    or_,
    update,
)
from sqlmodel import col, select

from tracker.model import (
    SourceView,
    TimelineEvent,
)
from tracker.store.tables import (
    EventRow,
    EventSourceRow,
    FeedRow,
    OutboxRow,
)
from tracker.store.tx import StoreBase, Tx
from tracker.store.values import FeedView, OutboxMessage, _feed_view
from tracker.store.views import event_view as _event_view


class Claims(StoreBase):
    """The claim part of :class:`~tracker.store.repo.Store`."""

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
