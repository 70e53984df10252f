"""What the analyst's desk reads: items, events with their history, feeds. Frozen values.

The store builds them (``tracker.store.desk``); the CLI's ``why``/``items``/``feeds`` and the
web desk only read them. Times are aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.model import TimelineEntry, TimelineEvent


@dataclass(frozen=True)
class ItemRecord:
    """One stored item as the desk lists it."""

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
    duplicate_of: int | None
    first_fetch: bool  # stored from its feed's first fetch (backlog unless fresh)


@dataclass(frozen=True)
class ItemEvent:
    """A timeline event an item reported, and what that item's report said."""

    event: TimelineEvent
    status: str
    recap: bool
    sentence: str
    first_source: bool  # this item is the event's first source
    alert_chats: tuple[str, ...]  # chats with an alert row for the event


@dataclass(frozen=True)
class ItemDetail:
    item: ItemRecord
    events: tuple[ItemEvent, ...]
    labels: tuple[str, ...]  # analysts' corrections, as "verdict: types"


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: datetime
    item_id: int | None


@dataclass(frozen=True)
class SourceRecord:
    """One outlet's report of an event, with the item it came from."""

    item_id: int
    outlet: str
    url: str | None
    title: str
    published: datetime | None
    fetched: datetime
    sentence: str
    evidence: tuple[str, ...]
    status: str
    recap: bool
    reason: str | None = None  # why it joined the event (event identity's verdict)


@dataclass(frozen=True)
class EventDetail:
    event: TimelineEvent
    sources: tuple[SourceRecord, ...]  # first seen first: who broke it
    history: tuple[StatusChange, ...]
    follow_up_of: TimelineEvent | None
    follow_ups: tuple[TimelineEvent, ...]
    alert_chats: tuple[str, ...]


@dataclass(frozen=True)
class FeedRecord:
    """A feed's state as the feeds page and ``tracker feeds`` show it."""

    id: int
    url: str
    name: str
    active: bool
    interval: timedelta
    final_url: str | None  # a permanent redirect adopted
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    last_new_item_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    last_error_kind: str | None
    health: str | None
    health_reasons: str | None
    items: int


@dataclass(frozen=True)
class TimelineFilter:
    """The desk's timeline filters (entity already resolved to its id)."""

    entity: str | None = None
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class TimelinePage:
    entries: tuple[TimelineEntry, ...]
    page: int
    has_next: bool
