"""Feed health as the operator hears of it: once when a feed fails, once when it recovers."""

from __future__ import annotations

from tests.conftest import Clock
from tests.pipeline.helpers import FeedRow, OutboxRow, make_config, rows, running
from tests.support.feedserver import FeedServer, Item, rss


async def test_failing_feed_is_reported_once_and_again_when_it_recovers(
    sqlite_url: str, clock: Clock
) -> None:
    """Three failures in a row send one notice to the admin chat; recovery sends one more."""
    good = rss([Item(title="خبر عادي من خلاصة سليمة", link="/n/1", guid="1")])
    with FeedServer() as srv:
        srv.add("/f.xml", good, content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml"), "name": "خلاصة"}],
                          telegram={"admins": ["admin-chat"]}, health={"feed_failures": 3})
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            srv.add("/f.xml", b"down", status=500)
            notices_after = []
            for _ in range(6):
                clock.advance(minutes=30)
                await app.pipeline.run_cycle(all_feeds=True)
                notices_after.append(len([o for o in rows(app, OutboxRow) if o.kind == "notice"]))
            (feed,) = rows(app, FeedRow)
            assert feed.health == "failing"
            srv.add("/f.xml", good, content_type="application/rss+xml")
            for _ in range(3):
                clock.advance(minutes=30)
                await app.pipeline.run_cycle(all_feeds=True)
            notices = [o for o in rows(app, OutboxRow) if o.kind == "notice"]
    assert notices_after == [0, 0, 1, 1, 1, 1]
    assert len(notices) == 2
    assert all(n.chat_id == "admin-chat" for n in notices)
    assert "became failing" in notices[0].payload and "500" in notices[0].payload
    assert "recovered" in notices[1].payload
