"""When to poll a feed next: a pure function of the last outcome and the clock.

In this order:

1. after a success (``failures == 0``): ``now + interval``, stretched to the feed's own
   freshness (Cache-Control max-age or Expires, RFC 9111 §4.2; or RSS ``<ttl>`` — pass
   ``max(max_age, ttl * 60)``) but kept within [interval, ``MAX_STRETCH`` × interval]:
   we never poll sooner than configured, and a feed cannot silence itself for days.
   No jitter: a healthy feed keeps its rhythm.
2. after ``failures`` consecutive failures: exponential backoff
   ``interval × 2^(failures−1)``, capped at ``backoff_cap(interval)`` (6 h, or 24 × interval
   when that is smaller, and never less than the interval), then spread by the caller's
   ``jitter`` in [0, 1): × (1 + jitter / 4), so feeds that failed together do not retry
   together. A failing feed is never polled sooner than its interval.
3. never before ``retry_after`` (RFC 9110 §10.2.3), itself capped at ``MAX_RETRY_AFTER``
   from now so a bogus header cannot park a feed for a year.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_STRETCH = 4
MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(days=7)


def backoff_cap(interval: timedelta) -> timedelta:
    """The longest backoff for a feed polled every ``interval``."""
    return max(interval, min(MAX_BACKOFF, interval * 24))


def next_poll_at(
    now: datetime,
    interval: timedelta,
    failures: int,
    retry_after: datetime | None,
    max_age_seconds: int | None,
    jitter: float,
) -> datetime:
    """The instant of the next poll (see the module docstring for the rules and their order)."""
    if failures <= 0:
        delay = interval
        if max_age_seconds is not None:
            fresh = timedelta(seconds=max_age_seconds)
            delay = min(max(fresh, interval), interval * MAX_STRETCH)
    else:
        exponent = min(failures - 1, 16)  # 2**16 intervals is past any cap already
        delay = min(interval * 2**exponent, backoff_cap(interval))
        delay = delay * (1 + min(max(jitter, 0.0), 1.0) / 4)
    when = now + delay
    if retry_after is not None:
        when = max(when, min(retry_after, now + MAX_RETRY_AFTER))
    return when
