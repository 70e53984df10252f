"""The idle heartbeat: one line per period while nothing is due, silence while busy."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from tracker.ops.heartbeat import Heartbeat

T0 = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)


def test_one_idle_line_per_period() -> None:
    """Idle ticks stay quiet until the period has passed, then one line, then quiet again."""
    hb = Heartbeat(timedelta(minutes=5))
    assert hb.tick(T0, polled=0, feeds=3, next_due=None) is None  # the clock starts
    lines = [hb.tick(T0 + timedelta(seconds=5 * n), 0, 3, None) for n in range(1, 121)]
    emitted = [line for line in lines if line is not None]
    assert len(emitted) == 2  # 10 minutes of 5 s ticks: two 5-minute lines
    assert emitted[0] == {"idle_seconds": 300, "idle_ticks": 60, "feeds": 3,
                          "next_poll_at": None}


def test_a_busy_tick_restarts_the_period() -> None:
    """A tick that polled feeds resets the idle clock."""
    hb = Heartbeat(timedelta(minutes=5))
    hb.tick(T0, 0, 1, None)
    assert hb.tick(T0 + timedelta(minutes=4), 2, 1, None) is None
    assert hb.tick(T0 + timedelta(minutes=8), 0, 1, None) is None
    assert hb.tick(T0 + timedelta(minutes=9, seconds=1), 0, 1, None) is not None


async def test_the_daemon_logs_idle_while_no_feed_is_due(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two poll ticks with nothing due and a tiny period give an `idle` log line with the
    next poll time."""
    import io

    from tests.pipeline.helpers import make_config
    from tracker.app import open_app
    from tracker.daemon import Daemon, utc_now

    cfg = make_config(sqlite_url, [{"url": "https://a.example/f", "name": "a"}])
    async with open_app(cfg, utc_now, io.StringIO()) as app:
        with app.store.tx() as tx:  # the feed is not due for an hour
            from sqlmodel import select

            from tracker.store.tables import FeedRow

            row = tx.session.exec(select(FeedRow)).one()
            row.next_poll_at = utc_now() + timedelta(hours=1)
            tx.session.add(row)
        daemon = Daemon(app, tick=5, outbox_interval=5)
        daemon.heartbeat = Heartbeat(timedelta(microseconds=1))
        with caplog.at_level(logging.INFO, logger="tracker.daemon"):
            await daemon.poll()
            await daemon.poll()
    idle = [r for r in caplog.records if r.getMessage() == "idle"]
    assert len(idle) == 1
    assert idle[0].feeds == 1 and idle[0].next_poll_at is not None  # type: ignore[attr-defined]
