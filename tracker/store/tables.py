"""The tables. Times are stored as aware UTC (``DateTime(timezone=True)``).

Fetch state lives on the feed row (next poll time is a column, not scheduler state), so a
restarted or second process knows what is due from the database alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"naive or non-datetime value stored: {value!r}")
        utc: datetime = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(nullable: bool = True, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class FeedRow(SQLModel, table=True):
    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    name: str
    interval_seconds: int
    timezone: str | None = None
    active: bool = True
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    next_poll_at: datetime | None = Field(default=None, sa_column=_utc(index=True))
    last_polled_at: datetime | None = Field(default=None, sa_column=_utc())
    last_success_at: datetime | None = Field(default=None, sa_column=_utc())
    last_new_item_at: datetime | None = Field(default=None, sa_column=_utc())
    fetch_count: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_kind: str | None = None
    lease_owner: str | None = None
    lease_expires: datetime | None = Field(default=None, sa_column=_utc())
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    health: str | None = None  # healthy | failing | stale (the last verdict told)
    health_reasons: str | None = None
    moved_to: str | None = None  # a permanent redirect's target, fetched instead of url
    retired_at: datetime | None = Field(default=None, sa_column=_utc())  # 410 Gone
    retry_after: datetime | None = Field(default=None, sa_column=_utc())  # server's Retry-After
    last_warning: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ItemRow(SQLModel, table=True):
    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("feed_id", "key", name="uq_item_feed_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", index=True)
    key: str
    guid: str | None = None
    link: str | None = Field(default=None, index=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    title_key: str = Field(index=True)  # match key of the title, for exact duplicates
    summary: str = Field(sa_column=Column(Text, nullable=False))
    content: str = Field(sa_column=Column(Text, nullable=False))
    published: datetime | None = Field(default=None, sa_column=_utc(index=True))
    date_status: str
    first_seen: datetime = Field(sa_column=_utc(nullable=False, index=True))
    duplicate_of: int | None = Field(default=None, foreign_key="item.id")


class EventRow(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        # the desk's timeline filtered by type or status, newest first (migration 0008)
        Index("ix_event_type_sort_date", "type", "sort_date"),
        Index("ix_event_status_sort_date", "status", "sort_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(index=True)
    headline: str = Field(sa_column=Column(Text, nullable=False))
    event_date: str | None = None
    precision: str | None = None
    sort_date: datetime = Field(sa_column=_utc(nullable=False, index=True))
    status: str
    confidence: float
    entities: str  # JSON: [{"id", "kind", "role"}]
    entity_keys: str = Field(index=True)  # " id1 id2 " for LIKE filters on any backend
    evidence: str  # JSON list of phrases
    first_seen: datetime = Field(sa_column=_utc(nullable=False))
    first_outlet: str
    source_count: int = 1
    alerted: bool = False
    follow_up_of: int | None = Field(default=None, foreign_key="event.id")
    updated_at: datetime = Field(sa_column=_utc(nullable=False))
    # what event identity reads (migration 0009): the first report's sentence, the figures
    # its reports state (JSON list of "unit:value"), distinct outlets, recap, first
    # publication, a few of its reports' sentences and its first report's entities (JSON)
    sentence: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    figures: str = Field(default="[]", sa_column=Column(Text, nullable=False,
                                                        server_default="[]"))
    outlet_count: int = Field(default=1, sa_column=Column(Integer, nullable=False,
                                                          server_default="1"))
    recap: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                        server_default=false()))
    first_reported: datetime | None = Field(default=None, sa_column=_utc())
    sentences: str = Field(default="[]", sa_column=Column(Text, nullable=False,
                                                          server_default="[]"))
    first_entities: str = Field(default="[]", sa_column=Column(Text, nullable=False,
                                                               server_default="[]"))


class EventSourceRow(SQLModel, table=True):
    __tablename__ = "event_source"
    __table_args__ = (UniqueConstraint("event_id", "item_id", name="uq_source_event_item"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    outlet: str
    url: str | None = None
    published: datetime | None = Field(default=None, sa_column=_utc())
    fetched: datetime = Field(sa_column=_utc(nullable=False))
    sentence: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str  # JSON list
    status: str
    recap: bool = False
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why it joined


class SubscriberRow(SQLModel, table=True):
    __tablename__ = "subscriber"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: str = Field(unique=True)
    lang: str = "ar"
    mode: str = "instant"  # instant | daily | weekly
    muted_until: datetime | None = Field(default=None, sa_column=_utc())
    active: bool = True
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    quiet_low: bool = False  # rumoured / planned alerts without a notification sound


class WatchRuleRow(SQLModel, table=True):
    __tablename__ = "watch_rule"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "kind", "value", name="uq_watch_rule"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    kind: str  # entity | event | pair ("entity|event")
    value: str


class OutboxRow(SQLModel, table=True):
    """One message to send: an alert for (event, chat), written with the event itself."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("event_id", "chat_id", "kind", name="uq_outbox_event_chat_kind"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    chat_id: str
    kind: str = "alert"  # alert | digest | notice
    watchlist: str | None = None
    state: str = "pending"  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_utc(nullable=False))
    lease_owner: str | None = None
    lease_expires: datetime | None = Field(default=None, sa_column=_utc())
    last_error: str | None = None
    message_id: str | None = None
    sent_source_count: int = 0
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_utc())


class ChatGateRow(SQLModel, table=True):
    """When a chat may get its next message, shared by every process of a cluster.

    ``next_at`` is the end of the last slot handed out (per-chat spacing); ``flood_until``
    the end of a flood wait Telegram asked for (429 ``retry_after``). The row ``"*"`` is the
    bot as a whole: a global flood wait holds every chat.
    """

    __tablename__ = "chat_gate"

    chat_id: str = Field(primary_key=True)
    next_at: datetime = Field(sa_column=_utc(nullable=False))
    flood_until: datetime | None = Field(default=None, sa_column=_utc())


class EventEntityRow(SQLModel, table=True):
    """Which entities an event involves; indexed for timeline queries by entity."""

    __tablename__ = "event_entity"
    __table_args__ = (
        UniqueConstraint("event_id", "entity_id", name="uq_event_entity"),
        Index("ix_event_entity_entity_date_event", "entity_id", "sort_date", "event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    entity_id: str
    role: str
    sort_date: datetime = Field(sa_column=_utc(nullable=False))


class EventStatusRow(SQLModel, table=True):
    """The status history of an event: reported, then confirmed or denied."""

    __tablename__ = "event_status"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    status: str
    at: datetime = Field(sa_column=_utc(nullable=False))
    item_id: int | None = Field(default=None, foreign_key="item.id")


class LabelRow(SQLModel, table=True):
    """An analyst's correction: which event types an item (or one of its sentences) carries.

    ``types`` is a JSON list of type ids, ``[]`` meaning "no event"; ``sentence`` is the
    sentence judged (NULL: the whole item). ``tracker train --with-feedback`` learns from them.
    """

    __tablename__ = "label"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    sentence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    types: str  # JSON list of event type ids
    verdict: str  # label | confirm | not_event | other_type
    source: str  # cli | telegram | web
    chat_id: str | None = None
    created_at: datetime = Field(sa_column=_utc(nullable=False))


class InstallationRow(SQLModel, table=True):
    """One row: this installation's id, made once (calendar UIDs, instance names)."""

    __tablename__ = "installation"

    id: str = Field(primary_key=True)
    created_at: datetime = Field(sa_column=_utc(nullable=False))


class ItemSearchRow(SQLModel, table=True):
    """The match key of an item's text and its events' entity ids, for full-text search.

    The search index over ``body`` is backend-specific and lives in migration 0008 only:
    an FTS5 table ``item_fts`` (SQLite) or a GIN index on ``to_tsvector('simple', body)``.
    """

    __tablename__ = "item_search"

    item_id: int = Field(foreign_key="item.id", primary_key=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
