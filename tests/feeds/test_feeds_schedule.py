"""next_poll_at: a pure schedule with backoff, freshness and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.feeds.caching import freshness_seconds, retry_after
from tracker.feeds.schedule import MAX_RETRY_AFTER, backoff_cap, next_poll_at

NOW = datetime(2025, 8, 24, 12, 0, tzinfo=UTC)
INTERVALS = [timedelta(minutes=m) for m in (1, 5, 15, 60, 360, 1440)]
JITTERS = [0.0, 0.3, 0.999]


def test_success_polls_after_interval() -> None:
    """A healthy feed is polled again exactly one interval later."""
    interval = timedelta(minutes=15)
    assert next_poll_at(NOW, interval, 0, None, None, 0.7) == NOW + interval


@pytest.mark.parametrize(
    ("max_age", "expected_minutes"),
    [(60, 15), (1800, 30), (3 * 3600, 60), (0, 15)],
)
def test_success_respects_max_age_within_bounds(max_age: int, expected_minutes: int) -> None:
    """Freshness stretches the interval but never below it nor beyond four times it."""
    got = next_poll_at(NOW, timedelta(minutes=15), 0, None, max_age, 0.0)
    assert got == NOW + timedelta(minutes=expected_minutes)


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("jitter", JITTERS)
def test_backoff_properties(interval: timedelta, jitter: float) -> None:
    """Backoff never comes sooner than the interval, never shrinks, and stays under its cap."""
    previous = NOW
    for failures in range(1, 40):
        got = next_poll_at(NOW, interval, failures, None, None, jitter)
        assert got >= NOW + interval
        assert got >= previous
        assert got - NOW <= backoff_cap(interval) * 1.25
        previous = got
    assert next_poll_at(NOW, interval, 39, None, None, 0.0) == NOW + backoff_cap(interval)


def test_backoff_doubles_before_the_cap() -> None:
    """Without jitter, failures 1, 2, 3 wait 1, 2 and 4 intervals."""
    waits = [next_poll_at(NOW, timedelta(minutes=5), f, None, None, 0.0) - NOW for f in (1, 2, 3)]
    assert waits == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]


def test_jitter_spreads_retries() -> None:
    """Different jitter values give different retry times after the same failure."""
    times = {next_poll_at(NOW, timedelta(minutes=5), 3, None, None, j) for j in JITTERS}
    assert len(times) == len(JITTERS)


def test_cap_is_six_hours_or_24_intervals() -> None:
    """The cap is 6 h for slow feeds, 24 intervals for fast ones, never under the interval."""
    assert backoff_cap(timedelta(minutes=1)) == timedelta(minutes=24)
    assert backoff_cap(timedelta(minutes=30)) == timedelta(hours=6)
    assert backoff_cap(timedelta(days=1)) == timedelta(days=1)


@pytest.mark.parametrize("failures", [0, 1, 5])
def test_never_before_retry_after(failures: int) -> None:
    """Whatever the failure count, the next poll is not before Retry-After."""
    later = NOW + timedelta(hours=3)
    assert next_poll_at(NOW, timedelta(minutes=5), failures, later, None, 0.5) >= later


def test_absurd_retry_after_is_capped() -> None:
    """A Retry-After a year away parks the feed for at most a week."""
    year = NOW + timedelta(days=365)
    assert next_poll_at(NOW, timedelta(minutes=5), 1, year, None, 0.0) == NOW + MAX_RETRY_AFTER


def test_past_retry_after_is_ignored() -> None:
    """A Retry-After already in the past does not pull the poll earlier."""
    past = NOW - timedelta(hours=1)
    assert next_poll_at(NOW, timedelta(minutes=5), 1, past, None, 0.0) == NOW + timedelta(minutes=5)


def test_freshness_headers() -> None:
    """max-age wins over Expires; no-store and no-cache give no freshness."""
    date = "Sun, 24 Aug 2025 12:00:00 GMT"
    assert freshness_seconds({"cache-control": "max-age=600", "expires": date}, NOW) == 600
    assert freshness_seconds({"cache-control": "no-cache, max-age=600"}, NOW) is None
    assert freshness_seconds({"expires": "Sun, 24 Aug 2025 13:00:00 GMT"}, NOW) == 3600
    assert freshness_seconds({"expires": "0"}, NOW) is None
    assert freshness_seconds({}, NOW) is None


def test_retry_after_values() -> None:
    """Retry-After is read as seconds or as an HTTP-date; junk is None."""
    assert retry_after("90", NOW) == NOW + timedelta(seconds=90)
    assert retry_after("Sun, 24 Aug 2025 13:00:00 GMT", NOW) == NOW + timedelta(hours=1)
    assert retry_after("soon", NOW) is None
    assert retry_after(None, NOW) is None
