"""One real event, one timeline entry, one alert: within an item, across outlets, in context."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.conftest import Clock
from tests.pipeline.helpers import EventRow, EventSourceRow, OutboxRow, make_config, rows, running
from tests.support.feedserver import FeedServer, Item, rss
from tracker.model import Article

REPO = Path(__file__).resolve().parents[2]
WATCH_ALL = [{"name": "all", "events": [], "entities": [], "chats": ["desk"]}]


def _demo_items(clock: Clock) -> list[Item]:
    items = []
    for name in ("tech", "economy", "asia"):
        raw = tomllib.loads((REPO / "config" / "demo" / f"{name}.toml").read_text("utf-8"))
        for n, it in enumerate(raw["items"]):
            items.append(Item(title=it["title"], description=it["summary"],
                              link=f"/{name}/{n}", guid=f"{name}-{n}",
                              pub_date=format_datetime(clock() - timedelta(minutes=5),
                                                       usegmt=True)))
    return items


async def test_the_demo_alerts_once_per_event_not_per_title_and_summary(
    sqlite_url: str, clock: Clock
) -> None:
    """Each demo item's title and summary report one event: one timeline event, one alert."""
    items = _demo_items(clock)
    with FeedServer() as srv:
        srv.add("/demo.xml", rss([]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/demo.xml")}], WATCH_ALL)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            clock.advance(minutes=10)
            srv.set_body("/demo.xml", rss(items))
            await app.pipeline.run_cycle(all_feeds=True)
            events = {e.id: e for e in rows(app, EventRow)}
            sources = rows(app, EventSourceRow)
            outbox = [o for o in rows(app, OutboxRow) if o.kind == "alert"]
    per_item: dict[int, list[str]] = {}
    for s in sources:
        per_item.setdefault(s.item_id, []).append(events[s.event_id].type)
    assert per_item, "the demo items report events"
    for types in per_item.values():
        assert len(types) == len(set(types)), types  # never two events of one type per item
    huawei = [e for e in events.values() if e.type == "mass_production"]
    assert len(huawei) == 1 and " huawei " in huawei[0].entity_keys
    assert len(outbox) == len({o.event_id for o in outbox}) == len(events)


async def test_a_background_clause_never_becomes_an_event_or_an_alert(
    sqlite_url: str, clock: Clock
) -> None:
    """«بعد أشهر من توقف المبيعات» in a permit story adds no restriction event, no alert."""
    item = Item(title="واشنطن تسمح لإنفيديا باستئناف بيع رقائق H20 في الصين",
                description="بدأت وزارة التجارة الأمريكية إصدار تراخيص تسمح لشركة إنفيديا "
                            "بتصدير رقائق H20 إلى الصين، بعد أشهر من توقف المبيعات.",
                link="/permit", guid="permit",
                pub_date=format_datetime(clock() - timedelta(minutes=5), usegmt=True))
    with FeedServer() as srv:
        srv.add("/f.xml", rss([item]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml")}], WATCH_ALL)
        async with running(cfg, clock) as (app, _):
            found = app.classifier.classify(Article(
                title=item.title, text=item.description or "", published=clock()))
            await app.pipeline.run_cycle(all_feeds=True)
            events = rows(app, EventRow)
            outbox = rows(app, OutboxRow)
    assert any(ev.background and ev.type == "export_restriction" for ev in found)
    assert [e.type for e in events] == ["export_permit"]
    assert len(outbox) == 1


async def test_the_seed_article_keeps_one_event_per_kind_on_the_timeline(
    sqlite_url: str, shared_data: Path
) -> None:
    """The seed article gives every kind DESIGN.md lists, each real event once."""
    clock = Clock(datetime(2025, 8, 29, 12, 0, tzinfo=UTC))
    title, _, text = (shared_data / "seed_article_ar.txt").read_text("utf-8").partition("\n")
    body = "".join(f"<p>{p.strip()}</p>" for p in text.split("\n") if p.strip())
    item = Item(title=title, description=body, link="/seed", guid="seed",
                pub_date=format_datetime(clock() - timedelta(hours=1), usegmt=True))
    with FeedServer() as srv:
        srv.add("/f.xml", rss([item]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml")}], WATCH_ALL)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            events = rows(app, EventRow)
    kinds = {e.type for e in events}
    assert kinds >= {"chip_launch", "mass_production", "export_permit", "purchase_guidance",
                     "security_review", "financial_results", "supply_constraint"}
    keys = [(e.type, e.entity_keys) for e in events]
    assert len(keys) == len(set(keys)), keys  # no event twice
    alibaba = [e for e in events if e.type == "chip_launch" and " alibaba " in e.entity_keys]
    assert len(alibaba) == 1  # "Alibaba develops a new chip" and "Alibaba confirms it": one
    metax = [e for e in events if e.type == "chip_launch" and " metax " in e.entity_keys]
    assert len(metax) == 1 and metax[0].recap
    for kind in ("mass_production", "export_permit", "purchase_guidance", "security_review",
                 "financial_results"):
        assert sum(1 for e in events if e.type == kind) == 1, kind
