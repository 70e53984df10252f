"""What the web desk reads and needs, as Protocols and plain values; no store import.

``app.py`` (the wiring) passes a :class:`DeskData` (``tracker.store.desk.DeskStore``
answers it) and a :class:`DeskContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from tracker.alerts.match import Rule
from tracker.alerts.render import Labels
from tracker.model import Article, DetectedEvent, Watchlist
from tracker.records import (
    EventDetail,
    FeedRecord,
    ItemDetail,
    ItemRecord,
    TimelineFilter,
    TimelinePage,
)
from tracker.text.search import NameIndex, Query


class DeskData(Protocol):
    """The desk's reads (and the analysts' label corrections)."""

    def timeline_page(self, filters: TimelineFilter, page: int,
                      per_page: int) -> TimelinePage: ...

    def event(self, event_id: int) -> EventDetail | None: ...

    def item(self, item_id: int) -> ItemDetail | None: ...

    def items(self, query: Query | None, page: int,
              per_page: int) -> tuple[list[ItemRecord], bool]: ...

    def refresh_search(self, batch: int = 2000, max_batches: int | None = None) -> int: ...

    def feeds(self) -> list[FeedRecord]: ...

    def instant_subscribers(
        self,
    ) -> list[tuple[str, frozenset[Rule], datetime | None]]: ...

    def record_label(self, item_id: int, types: Sequence[str], now: datetime) -> int: ...


class DeskLabels(Labels, Protocol):
    """Labels plus the taxonomy's type ids (the classifier engine provides both)."""

    def event_types(self) -> tuple[str, ...]: ...

    def classify(self, article: Article) -> tuple[DetectedEvent, ...]: ...


@dataclass(frozen=True)
class DeskContext:
    """Everything the pages need besides the data."""

    labels: DeskLabels
    names: NameIndex
    tz: str
    clock: Callable[[], datetime]
    watchlists: Sequence[Watchlist] = ()
    max_age: timedelta = timedelta(hours=48)
    per_page: int = 50
    version: str = ""
    token: str | None = None  # access token; None: no credentials asked (loopback only)
    secret: bytes = field(default=b"", repr=False)  # signs CSRF tokens
