"""When an event happened, as intervals the identity rules can compare. Pure.

An event date of day precision covers that day, a week seven days, a month, a quarter and a
year their calendar span. A mention without an event date is placed at its item's
publication time (else when the item was first seen): publication times are only a fallback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.model import DetectedEvent, EventDate

WINDOW = {
    None: timedelta(days=3),
    "day": timedelta(days=3),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
    "quarter": timedelta(days=92),
    "year": timedelta(days=366),
}


def date_start(date: EventDate) -> datetime | None:
    """The first instant of an event date, or None when the value is malformed."""
    v = date.value
    try:
        if date.precision in ("day", "week"):
            return datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=UTC)
        if date.precision == "month":
            return datetime.strptime(v, "%Y-%m").replace(tzinfo=UTC)
        if date.precision == "quarter":
            year, q = v.split("-Q")
            return datetime(int(year), 3 * (int(q) - 1) + 1, 1, tzinfo=UTC)
        if date.precision == "year":
            return datetime(int(v[:4]), 1, 1, tzinfo=UTC)
    except ValueError:
        return None
    return None


def date_span(date: EventDate) -> tuple[datetime, datetime] | None:
    """[start, end) of an event date, or None when the value is malformed."""
    start = date_start(date)
    if start is None:
        return None
    if date.precision == "day":
        return start, start + timedelta(days=1)
    if date.precision == "week":
        return start, start + timedelta(days=7)
    if date.precision == "month":
        nxt = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
        return start, nxt
    if date.precision == "quarter":
        month = start.month + 3
        return start, datetime(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1,
                               tzinfo=UTC)
    return start, datetime(start.year + 1, 1, 1, tzinfo=UTC)


def event_time(ev: DetectedEvent, published: datetime | None, first_seen: datetime) -> datetime:
    """The start of the event date when the text gives one, else publication, else seen."""
    if ev.event_date is not None and (start := date_start(ev.event_date)) is not None:
        return start
    return published or first_seen


def window(ev: DetectedEvent) -> timedelta:
    """How far in time a report of ``ev`` may be from another report of the same event."""
    return WINDOW[ev.event_date.precision if ev.event_date else None]
