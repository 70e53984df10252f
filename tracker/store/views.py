"""Stored event rows as the timeline's value types, for every reader of the event table.

:func:`event_view` takes anything with the event table's columns as attributes: a
:class:`~tracker.store.tables.EventRow` (the ORM reads) or a plain row of the SQLite-only
reader in :mod:`tracker.store.lite`, so both decode the JSON columns the same way. Importing
this module loads no SQLAlchemy.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Protocol

from tracker.model import EntityRef, EventDate, TimelineEvent

EVENT_COLUMNS = ("id", "type", "headline", "event_date", "precision", "sort_date", "status",
                 "first_seen", "first_outlet", "source_count", "alerted", "entities",
                 "evidence", "sentence", "figures", "follow_up_of", "outlet_count", "recap",
                 "first_reported", "sentences", "first_entities")


class EventColumns(Protocol):
    """The event table's columns that a :class:`TimelineEvent` is made of."""

    @property
    def id(self) -> int | None: ...
    @property
    def type(self) -> str: ...
    @property
    def headline(self) -> str: ...
    @property
    def event_date(self) -> str | None: ...
    @property
    def precision(self) -> str | None: ...
    @property
    def sort_date(self) -> datetime: ...
    @property
    def status(self) -> str: ...
    @property
    def first_seen(self) -> datetime: ...
    @property
    def first_outlet(self) -> str: ...
    @property
    def source_count(self) -> int: ...
    @property
    def alerted(self) -> bool: ...
    @property
    def entities(self) -> str: ...
    @property
    def evidence(self) -> str: ...
    @property
    def sentence(self) -> str: ...
    @property
    def figures(self) -> str: ...
    @property
    def follow_up_of(self) -> int | None: ...
    @property
    def outlet_count(self) -> int: ...
    @property
    def recap(self) -> bool: ...
    @property
    def first_reported(self) -> datetime | None: ...
    @property
    def sentences(self) -> str: ...
    @property
    def first_entities(self) -> str: ...


def event_view(row: EventColumns) -> TimelineEvent:
    """The timeline event a stored row holds (JSON columns decoded)."""
    assert row.id is not None
    entities = tuple(EntityRef(**e) for e in json.loads(row.entities))
    date = EventDate(row.event_date, row.precision) if row.event_date and row.precision else None  # type: ignore[arg-type]
    return TimelineEvent(
        id=row.id, type=row.type, headline=row.headline, entities=entities, event_date=date,
        sort_date=row.sort_date, status=row.status, first_seen=row.first_seen,
        first_outlet=row.first_outlet, source_count=row.source_count, alerted=row.alerted,
        evidence=tuple(json.loads(row.evidence)), sentence=row.sentence,
        figures=tuple(json.loads(row.figures or "[]")), follow_up_of=row.follow_up_of,
        outlet_count=row.outlet_count, recap=row.recap, first_reported=row.first_reported,
        sentences=tuple(json.loads(row.sentences or "[]")),
        first_entities=tuple(EntityRef(**e) for e in json.loads(row.first_entities or "[]")),
    )
