"""A transaction's writes of feed state: fetch outcomes, failures, moves, health.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Table,
    bindparam,
    func,
    update,
)
from sqlmodel import Session, col, select

from tracker.errors import StoreError
from tracker.store.tables import (
    FeedRow,
    ItemRow,
    OutboxRow,
)
from tracker.store.values import FeedView, QuietFetch, _feed_view, _storable

_FEEDS: Table = FeedRow.metadata.tables["feed"]  # the hot path writes these in Core


class FeedWrites:
    """The feed part of :class:`~tracker.store.tx.Tx`."""

    session: Session

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
