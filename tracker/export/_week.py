"""ISO weeks in a time zone: which instants a week holds, and which week last ended.

A week ``YYYY-Www`` (ISO 8601: weeks start on Monday, week 1 holds the year's first
Thursday) covers the half-open interval ``[Monday 00:00, next Monday 00:00)`` of local time
in the export's zone. Both ends are returned as aware UTC datetimes, so a week in a zone with
a daylight-saving change lasts 167 or 169 hours, and the store can query ``start <= t < end``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")  # ASCII digits only: \d also matches ٢٠٢٥


def zone(tz: str) -> ZoneInfo:
    """The IANA zone ``tz``; ValueError (not KeyError) when it is unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {tz!r} (expected an IANA name such as 'Asia/Riyadh')"
        ) from exc


def week_monday(week: str) -> date:
    """The Monday of ISO week ``YYYY-Www``; ValueError naming the problem when malformed."""
    m = _WEEK.fullmatch(week)
    if m is None:
        raise ValueError(f"malformed week {week!r}: expected YYYY-Www, e.g. '2025-W35'")
    year, num = int(m.group(1)), int(m.group(2))
    try:
        return date.fromisocalendar(year, num, 1)
    except ValueError as exc:
        raise ValueError(f"malformed week {week!r}: ISO year {year} has no week {num}") from exc


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``tz``, in UTC.

    When midnight does not exist (a daylight-saving gap at 00:00), ``fold=0`` makes zoneinfo
    use the offset before the change, which lands on the instant the day actually begins.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def week_bounds(week: str, tz: str) -> tuple[datetime, datetime]:
    """The aware UTC ``(start, end)`` of ISO week ``week`` in zone ``tz``; ``end`` excluded."""
    zi = zone(tz)
    monday = week_monday(week)
    return local_midnight_utc(monday, zi), local_midnight_utc(monday + timedelta(days=7), zi)


def week_of(day: date) -> str:
    """The ISO week ``YYYY-Www`` that holds ``day``."""
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def last_complete_week(now: datetime, tz: str) -> str:
    """The latest ISO week that has fully ended at ``now`` in zone ``tz``.

    ``now`` must be aware. Monday 00:30 in Riyadh (Sunday 21:30 UTC) already counts the week
    that just ended as complete, because the week is read in Riyadh's calendar.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime (tracker keeps time in aware UTC)")
    local_day = now.astimezone(zone(tz)).date()
    return week_of(local_day - timedelta(days=7))
