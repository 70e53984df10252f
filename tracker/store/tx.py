"""A unit of work: :class:`Tx` is one transaction, :class:`StoreBase` opens them.

A ``Tx`` flushes but never commits; the ``with store.tx()`` block commits when it ends and
rolls back when it raises, turning database errors into :class:`~tracker.errors.StoreError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from tracker.errors import StoreError
from tracker.store.feed_writes import FeedWrites
from tracker.store.item_writes import ItemWrites
from tracker.store.tables import (
    OutboxRow,
    SubscriberRow,
    WatchRuleRow,
)
from tracker.store.timeline_writes import TimelineWrites
from tracker.store.values import Subscription


class Tx(FeedWrites, ItemWrites, TimelineWrites):
    """One transaction. Methods flush but never commit; the owning ``Store`` commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

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




class StoreBase:
    """Holds the engine and opens transactions."""

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
