"""One poll cycle end to end: loopback feed server → fetch → parse → store → events → outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tests.conftest import Clock
from tests.pipeline.helpers import (
    EventRow,
    EventSourceRow,
    FeedRow,
    ItemRow,
    OutboxRow,
    make_config,
    rows,
    running,
)
from tests.support.feedserver import FeedServer, Item, Response, html_page, rss
from tracker.alerts.outbox import drain

PERMIT_TITLE = "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين"
PERMIT_TEXT = ("بدأت وزارة التجارة الأمريكية إصدار تراخيص تسمح لشركة إنفيديا بتصدير رقائق H20 "
               "إلى عملائها في الصين.")
WATCH_ALL = [{"name": "الكل", "events": [], "entities": [], "chats": ["desk"]}]


def _rfc822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


async def test_encodings_and_arabic_dates_are_stored_correctly(
    sqlite_url: str, clock: Clock
) -> None:
    """cp1256, both mislabelings and Arabic-month dates all store the right text and UTC time."""
    title = "هواوي تعلن خطة جديدة لرقائق الذكاء الاصطناعي"
    item = Item(title=title, link="/n/1", guid="g1", description="نص الخبر",
                pub_date="Fri, 29 Aug 2025 09:00:00 +0300")
    arabic_date = Item(title=title + " اليوم", link="/n/2", guid="g2",
                       pub_date="الجمعة، ٢٩ أغسطس ٢٠٢٥ ٠٩:٠٠ GMT+3")
    with FeedServer() as srv:
        srv.add("/cp1256.xml", rss([item], encoding="cp1256"),
                content_type="application/rss+xml; charset=windows-1256")
        srv.add("/cp1256-as-utf8.xml", rss([item], encoding="cp1256", declared="utf-8"),
                content_type="application/rss+xml; charset=utf-8")
        srv.add("/utf8-as-cp1256.xml", rss([item], encoding="utf-8", declared="windows-1256"),
                content_type="application/rss+xml; charset=windows-1256")
        srv.add("/arabic-date.xml", rss([arabic_date]), content_type="application/rss+xml")
        paths = ["/cp1256.xml", "/cp1256-as-utf8.xml", "/utf8-as-cp1256.xml", "/arabic-date.xml"]
        cfg = make_config(sqlite_url, [{"url": srv.url(p), "name": p} for p in paths])
        async with running(cfg, clock) as (app, _):
            report = await app.pipeline.run_cycle(all_feeds=True)
            items = rows(app, ItemRow)
    assert report.errors == 0
    assert len(items) == 4
    for stored in items:
        assert stored.title.startswith(title)
        assert stored.published == datetime(2025, 8, 29, 6, 0, tzinfo=UTC)


async def test_unchanged_feed_costs_a_304_and_a_changed_one_adds_only_new_items(
    sqlite_url: str, clock: Clock
) -> None:
    """A second poll sends the validators and stores nothing; a change adds only new items."""
    first = [Item(title="خبر أول عن رقائق الذكاء الاصطناعي", link="/n/1", guid="1")]
    with FeedServer() as srv:
        srv.add("/f.xml", rss(first), etag='"v1"', content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml")}])
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            clock.advance(minutes=20)
            second = await app.pipeline.run_cycle(all_feeds=True)
            sent = srv.requests_for("/f.xml")[-1].headers
            assert sent.get("if-none-match") == '"v1"'
            assert second.feeds[0].status == "not_modified" and second.feeds[0].new_items == 0
            more = [*first, Item(title="خبر ثان عن مصانع الرقائق", link="/n/2", guid="2")]
            srv.set_body("/f.xml", rss(more), etag='"v2"')
            clock.advance(minutes=20)
            third = await app.pipeline.run_cycle(all_feeds=True)
            assert third.feeds[0].new_items == 1
            assert len(rows(app, ItemRow)) == 2


async def test_failing_feeds_are_recorded_and_never_stop_the_cycle(
    sqlite_url: str, clock: Clock
) -> None:
    """Timeout, 500, broken XML and an oversized body each fail alone, with a reason; a 429
    waits for its Retry-After without counting as a failure."""
    good = rss([Item(title="خبر سليم من خلاصة تعمل", link="/ok/1", guid="ok1")])
    with FeedServer() as srv:
        srv.add("/good.xml", good, content_type="application/rss+xml")
        srv.add("/slow.xml", good, delay=3.0)
        srv.add("/500.xml", b"oops", status=500)
        srv.script("/429.xml", [Response(status=429, headers={"Retry-After": "3600"})])
        srv.add("/broken.xml", html_page(), content_type="text/html")
        srv.add_huge("/huge.xml", 50_000_000)
        names = ["/good.xml", "/slow.xml", "/500.xml", "/429.xml", "/broken.xml", "/huge.xml"]
        cfg = make_config(sqlite_url, [{"url": srv.url(p), "name": p} for p in names])
        async with running(cfg, clock) as (app, _):
            report = await app.pipeline.run_cycle(all_feeds=True)
            feeds = {f.name: f for f in rows(app, FeedRow)}
            assert len(rows(app, ItemRow)) == 1
    by_name = {r.name: r for r in report.feeds}
    assert by_name["/good.xml"].status == "ok"
    expected = {"/slow.xml": "timeout", "/500.xml": "http_500",
                "/broken.xml": "parse", "/huge.xml": "too_large"}
    assert by_name["/429.xml"].status == "throttled"  # a busy server is not a broken feed
    assert feeds["/429.xml"].last_error_kind == "http_429"
    assert feeds["/429.xml"].consecutive_failures == 0
    assert feeds["/429.xml"].retry_after is not None
    assert feeds["/429.xml"].retry_after >= clock() + timedelta(seconds=3600)
    for name, kind in expected.items():
        assert by_name[name].status == "error", name
        assert feeds[name].last_error_kind == kind
        assert feeds[name].last_error and len(feeds[name].last_error) > 10
        assert feeds[name].consecutive_failures == 1
        assert feeds[name].next_poll_at > clock()
    assert feeds["/429.xml"].next_poll_at >= clock() + timedelta(seconds=3600)
    assert feeds["/good.xml"].consecutive_failures == 0


async def test_backoff_grows_with_consecutive_failures(sqlite_url: str, clock: Clock) -> None:
    """Each further failure pushes the next poll further away."""
    with FeedServer() as srv:
        srv.add("/500.xml", b"down", status=500)
        cfg = make_config(sqlite_url, [{"url": srv.url("/500.xml"), "interval": "5m"}])
        delays = []
        async with running(cfg, clock) as (app, _):
            for _ in range(4):
                await app.pipeline.run_cycle(all_feeds=True)
                (feed,) = rows(app, FeedRow)
                delays.append(feed.next_poll_at - clock())
                clock.advance(hours=1)
    assert delays == sorted(delays) and delays[-1] > delays[0] * 3


async def test_fresh_news_alerts_and_backlog_goes_silently_onto_the_timeline(
    sqlite_url: str, clock: Clock
) -> None:
    """A fresh item alerts; a ten-day-old one is stored as an event with no alert."""
    fresh = Item(title=PERMIT_TITLE, description=PERMIT_TEXT, link="/n/1", guid="1",
                 pub_date=_rfc822(clock() - timedelta(hours=2)))
    old = Item(title="الصين تطلب من شركاتها التوقف عن شراء رقائق إنفيديا",
               description="طلبت الجهات التنظيمية في بكين من الشركات الكبرى التوقف عن شراء "
                           "رقائق H20 من إنفيديا.",
               link="/n/2", guid="2", pub_date=_rfc822(clock() - timedelta(days=10)))
    with FeedServer() as srv:
        srv.add("/f.xml", rss([fresh, old]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml")}], WATCH_ALL)
        async with running(cfg, clock) as (app, out):
            await app.pipeline.run_cycle(all_feeds=True)
            events = rows(app, EventRow)
            outbox = rows(app, OutboxRow)
            types_alerted = {e.type for e in events if any(o.event_id == e.id for o in outbox)}
            await drain(app.store, app.notifier, clock, app.owner)
    assert {"export_permit", "purchase_guidance"} <= {e.type for e in events}
    assert "export_permit" in types_alerted and "purchase_guidance" not in types_alerted
    assert "H20" in out.getvalue()


@pytest.mark.parametrize(("first_fetch", "alerts"), [(True, 0), (False, 1)])
async def test_undated_items_are_backlog_only_on_a_feeds_first_fetch(
    sqlite_url: str, clock: Clock, first_fetch: bool, alerts: int
) -> None:
    """An undated item alerts when it appears on a later fetch, not on the first one."""
    undated = Item(title=PERMIT_TITLE, description=PERMIT_TEXT, link="/n/1", guid="1")
    filler = Item(title="نشرة الطقس لهذا اليوم في المدن العربية", link="/n/0", guid="0")
    with FeedServer() as srv:
        srv.add("/f.xml", rss([filler] if not first_fetch else [undated]),
                content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml")}], WATCH_ALL)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            if not first_fetch:
                srv.set_body("/f.xml", rss([filler, undated]))
                clock.advance(minutes=20)
                await app.pipeline.run_cycle(all_feeds=True)
            assert len(rows(app, EventRow)) >= 1
            assert len(rows(app, OutboxRow)) == alerts


async def test_one_event_from_many_outlets_is_one_event_with_many_sources_and_one_alert(
    sqlite_url: str, clock: Clock
) -> None:
    """Five outlets rewriting the same licence news make one event, five sources, one alert."""
    headlines = [
        "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين",
        "الإدارة الأمريكية توافق على بيع شرائح إتش 20 من انفيديا للسوق الصينية",
        "ضوء أخضر أمريكي لاستئناف مبيعات رقاقة H20 في الصين",
        "وزارة التجارة الأمريكية تبدأ إصدار تراخيص تصدير H20 لشركة نفيديا",
        "السماح لإنفيديا باستئناف تصدير معالجات H20 إلى الصين",
    ]
    when = _rfc822(clock() - timedelta(hours=1))
    with FeedServer() as srv:
        feeds = []
        for i, h in enumerate(headlines):
            srv.add(f"/o{i}.xml", rss([Item(title=h, link=f"/o{i}/1", guid=f"o{i}",
                                            pub_date=when)]),
                    content_type="application/rss+xml")
            feeds.append({"url": srv.url(f"/o{i}.xml"), "name": f"outlet {i}"})
        cfg = make_config(sqlite_url, feeds, WATCH_ALL)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            permits = [e for e in rows(app, EventRow) if e.type == "export_permit"]
            sources = rows(app, EventSourceRow)
            outbox = rows(app, OutboxRow)
    assert len(permits) == 1, [p.headline for p in permits]
    assert sum(1 for s in sources if s.event_id == permits[0].id) == 5
    assert [o.event_id for o in outbox].count(permits[0].id) == 1


async def test_seed_article_as_a_feed_item_yields_events_and_an_alert(
    sqlite_url: str, clock: Clock, shared_data: object
) -> None:
    """The seed article served in a feed gives permit, guidance and production events, alerted."""
    from tests.conftest import SHARED_DATA

    text = (SHARED_DATA / "seed_article_ar.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    html = "".join(f"<p>{p}</p>" for p in paragraphs[1:])
    item = Item(title="علي بابا تطور شريحة جديدة", description=html, link="/seed", guid="seed",
                pub_date=_rfc822(clock() - timedelta(hours=1)))
    watch = [{"name": "seed", "events": ["export_permit", "purchase_guidance", "mass_production"],
              "entities": ["nvidia", "h20", "metax"], "chats": ["desk"]}]
    with FeedServer() as srv:
        srv.add("/seed.xml", rss([item]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url("/seed.xml")}], watch)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            events = rows(app, EventRow)
            outbox = rows(app, OutboxRow)
    types = {e.type for e in events}
    assert {"export_permit", "purchase_guidance", "mass_production"} <= types
    entity_keys = " ".join(e.entity_keys for e in events)
    assert all(f" {x} " in entity_keys for x in ("nvidia", "h20", "metax"))
    assert outbox, "the watchlist asking for these events got no alert"
