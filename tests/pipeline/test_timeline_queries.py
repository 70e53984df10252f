"""Timeline queries and the backtest, on a timeline built by the real pipeline."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.conftest import Clock
from tests.pipeline.helpers import REPO, make_config, running
from tests.support.feedserver import FeedServer, Item, rss
from tracker.backtest import backtest
from tracker.model import Watchlist

HEADLINES = [
    ("واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين", "export_permit"),
    ("هواوي تبدأ الإنتاج الضخم لرقائق أسيند 910C", "mass_production"),
    ("نفت إنفيديا أن تكون بكين طلبت من الشركات وقف شراء رقائقها", None),
]


async def _populate(srv: FeedServer, url: str, clock: Clock) -> list[Item]:
    when = format_datetime(clock() - timedelta(hours=1), usegmt=True)
    items = [Item(title=t, link=f"/n/{i}", guid=str(i), pub_date=when)
             for i, (t, _) in enumerate(HEADLINES)]
    srv.add("/f.xml", rss(items), content_type="application/rss+xml")
    return items


async def test_timeline_filters_by_entity_type_status_and_dates(
    sqlite_url: str, clock: Clock
) -> None:
    """Filters narrow the timeline; an entity filter uses the event's entities."""
    with FeedServer() as srv:
        await _populate(srv, srv.url("/f.xml"), clock)
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml"), "name": "منفذ"}])
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            store = app.store
            everything = store.timeline()
            nvidia = store.timeline(entity="nvidia")
            huawei = store.timeline(entity="huawei")
            permits = store.timeline(types=["export_permit"])
            denied = store.timeline(statuses=["denied"])
            future = store.timeline(since=clock() + timedelta(days=1))
    assert {e.event.type for e in huawei} == {"mass_production"}
    assert "export_permit" in {e.event.type for e in nvidia}
    assert all(any(x.id == "nvidia" for x in e.event.entities) for e in nvidia)
    assert [e.event.type for e in permits] == ["export_permit"]
    assert all(e.event.status == "denied" for e in denied) and denied
    assert future == []
    assert all(len(e.sources) == 1 and e.sources[0].outlet == "منفذ" for e in everything)


async def test_backtest_shows_what_a_rule_change_would_do(sqlite_url: str, clock: Clock) -> None:
    """Replaying stored items with a narrower classifier reports the lost events and alerts."""
    with FeedServer() as srv:
        await _populate(srv, srv.url("/f.xml"), clock)
        watch = [{"name": "all", "events": [], "entities": [], "chats": ["desk"]}]
        cfg = make_config(sqlite_url, [{"url": srv.url("/f.xml")}], watch)
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            stored = app.store.stored_items(clock() - timedelta(days=30))
            engine = app.classifier
    same = backtest(stored, engine.classify, cfg.watchlists, timedelta(hours=48))
    assert same.changes == [] and same.before == same.after
    assert same.alerts_before == same.alerts_after == 2

    def without_permits(article):  # type: ignore[no-untyped-def]
        return tuple(e for e in engine.classify(article) if e.type != "export_permit")

    narrower = backtest(stored, without_permits, cfg.watchlists, timedelta(hours=48))
    assert narrower.before["export_permit"] == 1 and narrower.after["export_permit"] == 0
    assert narrower.alerts_after == 1
    (change,) = narrower.changes
    assert change.before - change.after == {"export_permit"} and change.alerted_before
    only_huawei = backtest(stored, engine.classify,
                           [Watchlist("h", entities=frozenset({"huawei"}), chats=("x",))],
                           timedelta(hours=48))
    assert only_huawei.alerts_after == 1


def test_export_command_writes_the_week_in_every_format(tmp_path: Path, clock: Clock) -> None:
    """`tracker export --week … -f FMT -o FILE` writes that week's events in each format."""
    db = tmp_path / "t.db"

    async def populate() -> None:
        with FeedServer() as srv:
            await _populate(srv, srv.url("/f.xml"), clock)
            cfg = make_config(f"sqlite:///{db}", [{"url": srv.url("/f.xml")}])
            async with running(cfg, clock) as (app, _):
                await app.pipeline.run_cycle(all_feeds=True)

    asyncio.run(populate())
    conf = tmp_path / "tracker.toml"
    conf.write_text(f'[database]\nurl = "sqlite:///{db}"\n[classifier]\n'
                    f'taxonomy = "{REPO / "config" / "taxonomy.toml"}"\n'
                    f'entities = "{REPO / "config" / "entities.toml"}"\n', encoding="utf-8")
    week = clock().astimezone(ZoneInfo("Asia/Riyadh")).strftime("%G-W%V")
    for fmt in ("md", "html", "csv", "json", "ics", "timelinejs"):
        out = tmp_path / f"week.{fmt}"
        proc = subprocess.run(
            [sys.executable, "-m", "tracker", "export", "--config", str(conf), "--week", week,
             "--format", fmt, "-o", str(out)], capture_output=True, text=True, timeout=60,
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert proc.returncode == 0, proc.stderr
        text = out.read_bytes().decode("utf-8-sig")
        if fmt != "ics":  # iCalendar folds long lines
            assert "هواوي تبدأ الإنتاج الضخم" in text, fmt
    data = json.loads((tmp_path / "week.json").read_text(encoding="utf-8"))
    assert len(data["events"]) >= 2
    bad = subprocess.run([sys.executable, "-m", "tracker", "export", "--config", str(conf),
                          "--week", "2025-W99"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert bad.returncode == 2 and "2025-W99" in bad.stderr
