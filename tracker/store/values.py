"""The store's value types: what its reads return and its writes take.

Frozen dataclasses (a batch of timeline changes is built up, so it is not); table classes never
leave the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tracker.model import (
    DetectedEvent,
    EntityRef,
    SourceView,
    TimelineEvent,
)
from tracker.store.tables import (
    FeedRow,
)


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
