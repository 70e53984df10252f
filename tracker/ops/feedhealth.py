"""Is a feed healthy, failing or stale — and should the operator hear about it now? (pure)

A feed that silently dies is the top complaint about feed readers, so every poll ends with
:func:`assess`, and :func:`transition` turns two consecutive verdicts into at most one
notice: ``became_failing`` once when a feed starts failing, ``became_stale`` once when it
goes quiet, ``recovered`` once when it is healthy again. Persist the last verdict per feed
(or the daemon's restart repeats a notice once).

:func:`assess` decides in this order:

1. **failing** — ``consecutive_failures`` reached ``policy.failures`` (one timeout is not
   news), or the feed has failed since its last success and that success is older than
   ``policy.fail_after``;
2. **stale** — fetches work but no new item for longer than the feed's usual rhythm allows:
   ``stale_factor`` × its cadence (the median gap between its last ``window`` publication
   times), at least ``stale_min``; ``stale_default`` when the cadence is unknown. A feed
   that never had an item is stale once it has been watched ``stale_default``;
3. otherwise **healthy**.

:func:`adaptive_interval` follows the publishing rhythm: half the median gap, clamped to the
scheduler's bounds. Time is an argument everywhere; nothing here reads the clock.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Health(StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"
    STALE = "stale"


class Transition(StrEnum):
    BECAME_FAILING = "became_failing"
    BECAME_STALE = "became_stale"
    RECOVERED = "recovered"


@dataclass(frozen=True)
class FeedState:
    """What the store knows about one feed."""

    consecutive_failures: int
    last_success_at: datetime | None
    last_new_item_at: datetime | None
    pub_times: tuple[datetime, ...] = ()
    watched_since: datetime | None = None


@dataclass(frozen=True)
class HealthPolicy:
    failures: int = 3
    fail_after: timedelta = timedelta(hours=6)
    stale_factor: float = 4.0
    stale_min: timedelta = timedelta(days=2)
    stale_default: timedelta = timedelta(days=14)
    window: int = 20


@dataclass(frozen=True)
class Verdict:
    health: Health
    reasons: tuple[str, ...]
    cadence: timedelta | None


def median_gap(pub_times: Iterable[datetime], window: int = 20) -> timedelta | None:
    """The median gap between the last ``window`` distinct publication times (None if < 2)."""
    times = sorted(set(pub_times))[-window:]
    if len(times) < 2:
        return None
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return timedelta(seconds=statistics.median(gaps))


def assess(state: FeedState, now: datetime, policy: HealthPolicy | None = None) -> Verdict:
    """The feed's health at ``now`` with the reasons (see the module docstring)."""
    policy = policy or HealthPolicy()
    cadence = median_gap(state.pub_times, policy.window)
    reasons: list[str] = []
    failures = state.consecutive_failures
    if failures >= policy.failures:
        reasons.append(f"{failures} consecutive failed polls")
    if failures and state.last_success_at is not None:
        since = now - state.last_success_at
        if since >= policy.fail_after:
            reasons.append(f"no successful poll for {human(since)}")
    if reasons:
        return Verdict(Health.FAILING, tuple(reasons), cadence)
    if cadence is None:
        limit = policy.stale_default
        rhythm = "no usual rhythm known yet"
    else:
        limit = max(policy.stale_min, cadence * policy.stale_factor)
        rhythm = f"usually every {human(cadence)}"
    if state.last_new_item_at is not None:
        quiet = now - state.last_new_item_at
        if quiet > limit:
            return Verdict(Health.STALE, (f"no new item for {human(quiet)} ({rhythm})",),
                           cadence)
    elif state.watched_since is not None and now - state.watched_since > limit:
        return Verdict(Health.STALE,
                       (f"no item at all in {human(now - state.watched_since)}",), cadence)
    return Verdict(Health.HEALTHY, (), cadence)


def transition(previous: Health | None, current: Health) -> Transition | None:
    """The notice owed when a feed goes from ``previous`` to ``current`` (None: no notice).

    ``previous`` is None for a feed never assessed: a healthy start is no news.
    """
    if current == previous:
        return None
    if current is Health.FAILING:
        return Transition.BECAME_FAILING
    if current is Health.STALE:
        return Transition.BECAME_STALE
    return Transition.RECOVERED if previous is not None else None


def adaptive_interval(pub_times: Iterable[datetime], min_interval: timedelta,
                      max_interval: timedelta, current: timedelta, *,
                      now: datetime | None = None, fraction: float = 0.5,
                      window: int = 20) -> timedelta:
    """The next poll interval: ``fraction`` of the median publication gap, clamped.

    Publication times after ``now`` (scheduled posts, bad clocks) are ignored; with fewer
    than two distinct times the ``current`` interval is kept (clamped).
    """
    times = [t for t in pub_times if now is None or t <= now]
    gap = median_gap(times, window)
    wanted = current if gap is None else gap * fraction
    return max(min_interval, min(max_interval, wanted))


def human(delta: timedelta) -> str:
    """A short duration for people: ``45s``, ``12m``, ``5h``, ``3d``, ``2d 4h``."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h" + (f" {rest // 60}m" if rest >= 60 and hours < 10 else "")
    days, rest = divmod(seconds, 86400)
    return f"{days}d" + (f" {rest // 3600}h" if rest >= 3600 else "")


class HealthBook:
    """The last verdict of each feed in this process, turning new verdicts into notices.

    Seed it with persisted verdicts (``HealthBook({feed_id: Health.FAILING})``) so a restart
    does not repeat a notice already given.
    """

    def __init__(self, known: dict[int, Health] | None = None) -> None:
        self.known: dict[int, Health] = dict(known or {})

    def update(self, feed_id: int, verdict: Verdict) -> Transition | None:
        """Record ``verdict`` for the feed; the notice owed, if any."""
        notice = transition(self.known.get(feed_id), verdict.health)
        self.known[feed_id] = verdict.health
        return notice
