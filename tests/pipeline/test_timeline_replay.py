"""The timeline as analysts read it: one event per real-world event, however many outlets."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.conftest import SHARED_DATA, Clock
from tests.pipeline.helpers import EventRow, EventSourceRow, OutboxRow, make_config, rows, running
from tests.support.feedserver import FeedServer, Item, rss

STORIES = Path(__file__).resolve().parents[1] / "data" / "replay" / "stories.toml"
WATCH_ALL = [{"name": "all", "events": [], "entities": [], "chats": ["desk"]}]


async def test_six_events_from_five_outlets_over_three_days(
    sqlite_url: str, clock: Clock
) -> None:
    """Thirty interleaved reports of six events make six events, five sources each, six alerts."""
    stories = tomllib.loads(STORIES.read_text(encoding="utf-8"))["stories"]
    start = clock()
    with FeedServer() as srv:
        outlets = [f"/outlet{i}.xml" for i in range(5)]
        published: dict[str, list[Item]] = {o: [] for o in outlets}
        for o in outlets:
            srv.add(o, rss([]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url(o), "name": o} for o in outlets],
                          WATCH_ALL)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)  # the feeds' first, empty fetch
            for day in range(3):
                for hour in range(5):  # each hour, every outlet publishes one report
                    clock.now = start + timedelta(days=day, hours=2 + hour)
                    for s in (s for s in stories if s["day"] == day):
                        o = outlets[(hour + stories.index(s)) % 5]
                        published[o].append(Item(
                            title=s["headlines"][hour], link=f"/{s['key']}/{hour}",
                            guid=f"{s['key']}-{hour}",
                            pub_date=format_datetime(clock() - timedelta(minutes=20),
                                                     usegmt=True)))
                        srv.set_body(o, rss(published[o]))
                    await app.pipeline.run_cycle(all_feeds=True)
            events = rows(app, EventRow)
            sources = rows(app, EventSourceRow)
            outbox = rows(app, OutboxRow)
    by_type: dict[str, list[EventRow]] = {}
    for e in events:
        by_type.setdefault(e.type, []).append(e)
    for s in stories:
        found = by_type.get(s["type"], [])
        assert len(found) == 1, (s["key"], [e.headline for e in found])
        (event,) = found
        assert all(f" {x} " in event.entity_keys for x in s["entities"]), event.entity_keys
        assert sum(1 for src in sources if src.event_id == event.id) == 5, s["key"]
        assert sum(1 for o in outbox if o.event_id == event.id) == 1, s["key"]
    assert len(outbox) == 6


async def test_seed_article_recap_attaches_to_the_july_permit_without_alerting(
    sqlite_url: str, clock: Clock, shared_data: Path
) -> None:
    """The seed article, read after July's permit is on the timeline, adds a source, no alert."""
    clock.now = datetime(2025, 7, 15, 9, 0, tzinfo=UTC)
    permit = Item(title="ترامب يسمح لإنفيديا باستئناف تصدير رقائق H20 إلى الصين",
                  description="سمحت الإدارة الأمريكية لشركة إنفيديا باستئناف مبيعات رقائق "
                              "H20 للعملاء في الصين.",
                  link="/july", guid="july", pub_date=format_datetime(clock(), usegmt=True))
    text = (SHARED_DATA / "seed_article_ar.txt").read_text(encoding="utf-8")
    body = "".join(f"<p>{p.strip()}</p>" for p in text.split("\n")[1:] if p.strip())
    with FeedServer() as srv:
        srv.add("/f.xml", rss([permit]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml")}], WATCH_ALL)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            (july,) = [e for e in rows(app, EventRow) if e.type == "export_permit"]
            alerts_before = len(rows(app, OutboxRow))
            clock.now = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)
            seed = Item(title="علي بابا تطور شريحة جديدة للاستدلال", description=body,
                        link="/seed", guid="seed",
                        pub_date=format_datetime(clock() - timedelta(hours=1), usegmt=True))
            srv.set_body("/f.xml", rss([permit, seed]))
            await app.pipeline.run_cycle(all_feeds=True)
            permits = [e for e in rows(app, EventRow) if e.type == "export_permit"]
            sources = [s for s in rows(app, EventSourceRow) if s.event_id == july.id]
            outbox = rows(app, OutboxRow)
    assert alerts_before == 1
    assert [p.id for p in permits] == [july.id]
    assert len(sources) == 2 and any(s.recap for s in sources)
    assert not any(o.event_id == july.id for o in outbox[alerts_before:])
    assert all(o.event_id != july.id for o in outbox[1:])
