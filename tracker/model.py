"""Core value types shared by the pure core and the edges.

Every type here is a frozen dataclass; times are aware UTC ``datetime`` values. Table classes
live only inside ``tracker.store``; edges convert to and from these types at their boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# --- feeds -------------------------------------------------------------------------------

DateStatus = Literal["ok", "missing", "future"]


@dataclass(frozen=True)
class FeedEntry:
    """One item of a parsed feed, in display text (HTML stripped, normalised for reading)."""

    key: str  # stable identity: "guid:…", "url:…" or "hash:…"
    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published: datetime | None  # aware UTC; None when the feed gave no usable date
    date_status: DateStatus  # "missing" (no date), "future" (date ahead of fetch time), "ok"
    date_problem: str | None = None  # why a date the feed gave was refused ("missing" then)


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed body turned into."""

    title: str
    link: str | None
    entries: tuple[FeedEntry, ...]
    ttl_minutes: int | None = None  # RSS <ttl>
    warning: str | None = None  # a problem the feed survived (feedparser "bozo" we tolerate)


# --- classification -------------------------------------------------------------------------

Status = Literal["reported", "confirmed", "denied", "planned", "rumoured"]
Precision = Literal["day", "week", "month", "quarter", "year"]


@dataclass(frozen=True)
class Article:
    """The input of the event engine: one item's text and its publication time."""

    title: str
    text: str
    published: datetime | None = None


@dataclass(frozen=True)
class EntityRef:
    """A canonical entity found in an event, with its role (actor, target, product, mention)."""

    id: str
    kind: str
    role: str


@dataclass(frozen=True)
class EventDate:
    """When an event happened, as far as the text says.

    ``value`` is ``YYYY-MM-DD`` (day and week precision: the first day), ``YYYY-MM``,
    ``YYYY-Qn`` or ``YYYY``.
    """

    value: str
    precision: Precision


@dataclass(frozen=True)
class DetectedEvent:
    """One event recognised in one sentence of an article."""

    type: str
    confidence: float
    entities: tuple[EntityRef, ...]
    event_date: EventDate | None
    status: Status
    recap: bool
    evidence: tuple[str, ...]  # the phrases (display text) that decided it
    sentence: str = ""  # the sentence (display text) the event was found in
    why: tuple[str, ...] = ()  # how it was decided: model probability, weighted words, rules
    background: bool = False  # a clause recalling context (بعد أشهر من توقف المبيعات): never news

    def entity_ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.entities)


# --- timeline ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    """One real-world event on the timeline, however many outlets reported it."""

    id: int
    type: str
    headline: str
    entities: tuple[EntityRef, ...]
    event_date: EventDate | None
    sort_date: datetime
    status: str
    first_seen: datetime
    first_outlet: str
    source_count: int
    alerted: bool
    evidence: tuple[str, ...]
    sentence: str = ""  # the event sentence of its first report (display text)
    figures: tuple[str, ...] = ()  # figures with their unit its reports state (``units:500000``)
    follow_up_of: int | None = None  # the earlier event this one is a new development of
    outlet_count: int = 1  # distinct outlets that reported it
    recap: bool = False  # its first report recalled it as an earlier event
    first_reported: datetime | None = None  # the earliest publication time of its reports
    sentences: tuple[str, ...] = ()  # a few of its reports' event sentences (identity reads)
    first_entities: tuple[EntityRef, ...] = ()  # its first report's entities (identity reads)


@dataclass(frozen=True)
class SourceView:
    """One outlet's report of a timeline event."""

    outlet: str
    url: str | None
    published: datetime | None
    fetched: datetime
    title: str = ""  # that outlet's headline (display text)


@dataclass(frozen=True)
class TimelineEntry:
    """A timeline event with all its sources, as exports and digests read it."""

    event: TimelineEvent
    sources: tuple[SourceView, ...]


# --- alerts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watchlist:
    """Which events go to which chats. Empty ``events`` or ``entities`` means any."""

    name: str
    events: frozenset[str] = field(default_factory=frozenset)
    entities: frozenset[str] = field(default_factory=frozenset)
    chats: tuple[str, ...] = ()
