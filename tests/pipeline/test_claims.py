"""Claims are sized: a process leases a few feeds at a time, so processes share a cycle."""

from __future__ import annotations

import asyncio

from tests.conftest import Clock
from tests.pipeline.helpers import make_config, running
from tests.support.feedserver import FeedServer, Item, rss

FEEDS = 24


def _server(srv: FeedServer) -> list[dict[str, str]]:
    for f in range(FEEDS):
        srv.add(f"/f{f}.xml", rss([Item(title=f"خبر {f}", link=f"/n/{f}", guid=f"g{f}")]),
                content_type="application/rss+xml", delay=0.05)
    return [{"url": srv.url(f"/f{f}.xml"), "name": f"feed {f}"} for f in range(FEEDS)]


async def test_two_processes_on_one_database_share_a_cycle(database_url: str,
                                                           clock: Clock) -> None:
    """Two pipelines cycling at once over one store each poll part of the feeds, together
    every feed exactly once."""
    with FeedServer() as srv:
        feeds = _server(srv)
        cfg = make_config(database_url, feeds, scheduler={"max_concurrent_feeds": 4,
                                                          "claim_batch": 2})
        async with running(cfg, clock) as (one, _), running(cfg, clock) as (two, _):
            a, b = await asyncio.gather(one.pipeline.run_cycle(), two.pipeline.run_cycle())
        polled_a = {r.feed_id for r in a.feeds}
        polled_b = {r.feed_id for r in b.feeds}
        requests = len(srv.requests)
    assert not polled_a & polled_b
    assert len(polled_a | polled_b) == FEEDS == requests
    assert max(len(polled_a), len(polled_b)) <= FEEDS * 3 // 4, (len(polled_a), len(polled_b))


async def test_a_cycle_polls_every_due_feed_once_in_small_claims(sqlite_url: str,
                                                                 clock: Clock) -> None:
    """With claims of 3 feeds and 5 slots, a cycle polls every due feed exactly once, the
    next finds none due, and a forced one polls each once again."""
    with FeedServer() as srv:
        feeds = _server(srv)
        cfg = make_config(sqlite_url, feeds, scheduler={"max_concurrent_feeds": 5,
                                                        "claim_batch": 3})
        async with running(cfg, clock) as (app, _):
            report = await app.pipeline.run_cycle()
            again = await app.pipeline.run_cycle()  # nothing is due any more
            forced = await app.pipeline.run_cycle(all_feeds=True)
        paths = [r.path for r in srv.requests]
    assert sorted(r.feed_id for r in report.feeds) == sorted({r.feed_id for r in report.feeds})
    assert len(report.feeds) == FEEDS and again.feeds == []
    assert len(forced.feeds) == FEEDS and len({r.feed_id for r in forced.feeds}) == FEEDS
    assert len(paths) == 2 * FEEDS and len(set(paths)) == FEEDS
