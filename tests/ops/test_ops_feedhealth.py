"""Feed health verdicts, notices on transitions, and the adaptive interval (hand-set clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.ops.feedhealth import (
    FeedState,
    Health,
    HealthBook,
    HealthPolicy,
    Transition,
    Verdict,
    adaptive_interval,
    assess,
    human,
    median_gap,
    transition,
)

NOW = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def hourly(n: int, end: datetime = NOW) -> tuple[datetime, ...]:
    """n publication times one hour apart, the last at ``end``."""
    return tuple(end - i * H for i in range(n))


CASES = [
    # (why, state, expected health, reason fragment)
    ("fresh and fetching", FeedState(0, NOW, NOW - H, hourly(10, NOW - H)),
     Health.HEALTHY, None),
    ("one or two failures are not news", FeedState(2, NOW - H, NOW - H, hourly(10)),
     Health.HEALTHY, None),
    ("three consecutive failures", FeedState(3, NOW - H, NOW - H, hourly(10)),
     Health.FAILING, "3 consecutive failed polls"),
    ("a slow feed failing since its last success 7 h ago",
     FeedState(1, NOW - 7 * H, NOW - 7 * H, hourly(10, NOW - 7 * H)),
     Health.FAILING, "no successful poll for 7h"),
    ("a new feed that never worked", FeedState(5, None, None), Health.FAILING,
     "5 consecutive failed polls"),
    ("hourly feed quiet for 3 days (limit max(2d, 4h))",
     FeedState(0, NOW, NOW - 3 * D, hourly(10, NOW - 3 * D)),
     Health.STALE, "no new item for 3d (usually every 1h)"),
    ("daily feed quiet for 3 days is fine (limit 4d)",
     FeedState(0, NOW, NOW - 3 * D, tuple(NOW - 3 * D - i * D for i in range(6))),
     Health.HEALTHY, None),
    ("daily feed quiet for 5 days is stale",
     FeedState(0, NOW, NOW - 5 * D, tuple(NOW - 5 * D - i * D for i in range(6))),
     Health.STALE, "usually every 1d"),
    ("one known item, quiet 10 days: default limit 14d",
     FeedState(0, NOW, NOW - 10 * D, (NOW - 10 * D,)), Health.HEALTHY, None),
    ("one known item, quiet 15 days", FeedState(0, NOW, NOW - 15 * D, (NOW - 15 * D,)),
     Health.STALE, "no usual rhythm known yet"),
    ("never an item in 15 days of watching",
     FeedState(0, NOW, None, (), watched_since=NOW - 15 * D),
     Health.STALE, "no item at all in 15d"),
    ("never an item in 2 days of watching",
     FeedState(0, NOW, None, (), watched_since=NOW - 2 * D), Health.HEALTHY, None),
    ("failing wins over stale", FeedState(4, NOW - 20 * D, NOW - 20 * D, hourly(5, NOW - 20 * D)),
     Health.FAILING, "no successful poll for 20d"),
]


@pytest.mark.parametrize(("why", "state", "health", "reason"), CASES,
                         ids=[c[0] for c in CASES])
def test_assess(why: str, state: FeedState, health: Health, reason: str | None) -> None:
    """assess gives the expected verdict and says why (each case names its reason)."""
    verdict = assess(state, NOW)
    assert verdict.health is health, why
    if reason is None:
        assert verdict.reasons == ()
    else:
        assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_policy_is_adjustable() -> None:
    """A stricter policy calls a feed failing after one failure."""
    state = FeedState(1, NOW - H, NOW - H, hourly(5))
    assert assess(state, NOW).health is Health.HEALTHY
    assert assess(state, NOW, HealthPolicy(failures=1)).health is Health.FAILING


TRANSITIONS = [
    (None, Health.HEALTHY, None),
    (None, Health.FAILING, Transition.BECAME_FAILING),
    (None, Health.STALE, Transition.BECAME_STALE),
    (Health.HEALTHY, Health.HEALTHY, None),
    (Health.HEALTHY, Health.FAILING, Transition.BECAME_FAILING),
    (Health.FAILING, Health.FAILING, None),
    (Health.FAILING, Health.HEALTHY, Transition.RECOVERED),
    (Health.HEALTHY, Health.STALE, Transition.BECAME_STALE),
    (Health.STALE, Health.STALE, None),
    (Health.STALE, Health.HEALTHY, Transition.RECOVERED),
    (Health.FAILING, Health.STALE, Transition.BECAME_STALE),
    (Health.STALE, Health.FAILING, Transition.BECAME_FAILING),
]


@pytest.mark.parametrize(("before", "after", "notice"), TRANSITIONS)
def test_transition(before: Health | None, after: Health,
                    notice: Transition | None) -> None:
    """Each change of health owes exactly one notice; no change owes none."""
    assert transition(before, after) == notice


def test_a_failing_streak_is_told_once_and_its_recovery_once() -> None:
    """Polling a feed through failures and back tells the operator twice in total."""
    clock, previous, notices = NOW, None, []
    failures = [0, 1, 2, 3, 4, 5, 0, 0, 1, 0]
    last_success = clock
    for n in failures:
        clock += timedelta(minutes=15)
        if n == 0:
            last_success = clock
        verdict = assess(FeedState(n, last_success, clock - H, hourly(8, clock - H)), clock)
        if (notice := transition(previous, verdict.health)) is not None:
            notices.append(notice)
        previous = verdict.health
    assert notices == [Transition.BECAME_FAILING, Transition.RECOVERED]


def test_median_gap_ignores_repeated_times_and_keeps_the_window() -> None:
    """The cadence is the median of gaps between distinct times, over the last N."""
    assert median_gap([NOW]) is None
    assert median_gap([NOW, NOW]) is None
    assert median_gap([NOW, NOW - H, NOW - H, NOW - 3 * H]) == timedelta(minutes=90)
    old_then_fast = [NOW - 100 * D, NOW - 50 * D] + [NOW - i * H for i in range(5)]
    assert median_gap(old_then_fast, window=5) == H


INTERVALS = [
    ("hourly feed → 30 min", hourly(10), timedelta(minutes=30)),
    ("every 2 min → the 5 min floor", tuple(NOW - i * timedelta(minutes=2) for i in range(10)),
     timedelta(minutes=5)),
    ("daily feed → the 2 h ceiling", tuple(NOW - i * D for i in range(5)), 2 * H),
    ("too few times keep the current interval", (NOW,), timedelta(minutes=15)),
    ("future-dated posts are ignored",
     (NOW + D, NOW + 2 * D, *hourly(6)), timedelta(minutes=30)),
]


@pytest.mark.parametrize(("why", "times", "expected"), INTERVALS, ids=[c[0] for c in INTERVALS])
def test_adaptive_interval(why: str, times: tuple[datetime, ...], expected: timedelta) -> None:
    """The interval is half the median publication gap, clamped to [5 min, 2 h]."""
    got = adaptive_interval(times, timedelta(minutes=5), 2 * H, timedelta(minutes=15), now=NOW)
    assert got == expected, why


def test_adaptive_interval_clamps_the_current_one_too() -> None:
    """Without a cadence, a current interval outside the bounds is brought inside them."""
    assert adaptive_interval([], timedelta(minutes=5), 2 * H, 5 * H) == 2 * H


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(seconds=45), "45s"), (timedelta(minutes=12), "12m"), (5 * H, "5h"),
    (timedelta(hours=2, minutes=30), "2h 30m"), (3 * D, "3d"), (D + 4 * H, "1d 4h"),
])
def test_human_durations(delta: timedelta, text: str) -> None:
    """Durations in reasons are short and readable."""
    assert human(delta) == text


def test_health_book_gives_each_notice_once_per_feed() -> None:
    """The book remembers each feed's last verdict, so repeats owe nothing and feeds are
    independent; a seeded verdict suppresses the notice after a restart."""
    failing = Verdict(Health.FAILING, ("3 consecutive failed polls",), None)
    healthy = Verdict(Health.HEALTHY, (), None)
    book = HealthBook()
    assert book.update(1, healthy) is None
    assert book.update(1, failing) is Transition.BECAME_FAILING
    assert book.update(1, failing) is None
    assert book.update(2, failing) is Transition.BECAME_FAILING
    assert book.update(1, healthy) is Transition.RECOVERED
    assert HealthBook({7: Health.FAILING}).update(7, failing) is None
