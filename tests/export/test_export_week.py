"""ISO weeks in a time zone: ``week_bounds`` and ``last_complete_week``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracker.export import last_complete_week, week_bounds


def test_week_bounds_riyadh() -> None:
    """2025-W35 in Riyadh (UTC+3) runs from Sunday 21:00 UTC to the next Sunday 21:00 UTC."""
    start, end = week_bounds("2025-W35", "Asia/Riyadh")
    assert start == datetime(2025, 8, 24, 21, 0, tzinfo=UTC)
    assert end == datetime(2025, 8, 31, 21, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)


def test_week_bounds_utc_and_west() -> None:
    """In UTC the week starts at Monday midnight; west of Greenwich it starts later in UTC."""
    assert week_bounds("2025-W01", "UTC")[0] == datetime(2024, 12, 30, tzinfo=UTC)
    assert week_bounds("2025-W01", "America/New_York")[0] == datetime(2024, 12, 30, 5, tzinfo=UTC)


def test_week_bounds_daylight_saving_week_is_167_hours() -> None:
    """A Berlin week holding the spring-forward change lasts 167 hours, not 168."""
    start, end = week_bounds("2025-W13", "Europe/Berlin")
    assert start == datetime(2025, 3, 23, 23, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=167)


def test_week_bounds_week_53() -> None:
    """Week 53 exists in 2020 and is refused in 2025, which has 52 ISO weeks."""
    assert week_bounds("2020-W53", "UTC")[0] == datetime(2020, 12, 28, tzinfo=UTC)
    with pytest.raises(ValueError, match="has no week 53"):
        week_bounds("2025-W53", "UTC")


@pytest.mark.parametrize(
    "week",
    [
        "2025-35",
        "2025-W5",
        "2025W35",
        "",
        "2025-W00",
        "2025-w35",
        "25-W35",
        "2025-W35 ",
        "٢٠٢٥-W35",
    ],
)
def test_week_bounds_malformed(week: str) -> None:
    """A malformed week raises ValueError naming the week and the expected shape."""
    with pytest.raises(ValueError, match="malformed week"):
        week_bounds(week, "Asia/Riyadh")


def test_week_bounds_unknown_zone() -> None:
    """An unknown zone raises ValueError (not KeyError) that names it."""
    with pytest.raises(ValueError, match="Mars/Olympus"):
        week_bounds("2025-W35", "Mars/Olympus")


def test_last_complete_week_monday_just_after_midnight_in_riyadh() -> None:
    """Monday 00:30 in Riyadh is Sunday 21:30 UTC, and the week that just ended is complete."""
    now = datetime(2025, 8, 31, 21, 30, tzinfo=UTC)
    assert last_complete_week(now, "Asia/Riyadh") == "2025-W35"
    assert last_complete_week(now, "UTC") == "2025-W34"


def test_last_complete_week_sunday_night_in_riyadh() -> None:
    """Sunday 23:59 in Riyadh still belongs to the running week, so the previous one is last."""
    now = datetime(2025, 8, 31, 20, 59, tzinfo=UTC)
    assert last_complete_week(now, "Asia/Riyadh") == "2025-W34"


def test_last_complete_week_accepts_any_aware_now() -> None:
    """The answer depends on the instant, not on the offset ``now`` is expressed in."""
    utc_now = datetime(2025, 8, 31, 21, 30, tzinfo=UTC)
    plus3 = utc_now.astimezone(timezone(timedelta(hours=3)))
    assert last_complete_week(plus3, "Asia/Riyadh") == last_complete_week(utc_now, "Asia/Riyadh")


def test_last_complete_week_across_the_year() -> None:
    """On Monday 2026-01-05 the last complete week is 2026-W01, which began in December."""
    assert last_complete_week(datetime(2026, 1, 5, 12, tzinfo=UTC), "Asia/Riyadh") == "2026-W01"
    assert last_complete_week(datetime(2025, 12, 29, 12, tzinfo=UTC), "UTC") == "2025-W52"
    assert week_bounds("2026-W01", "UTC")[0] == datetime(2025, 12, 29, tzinfo=UTC)


def test_last_complete_week_refuses_naive_now() -> None:
    """A naive ``now`` is refused: tracker keeps time in aware UTC."""
    with pytest.raises(ValueError, match="aware"):
        last_complete_week(datetime(2025, 9, 1), "Asia/Riyadh")
