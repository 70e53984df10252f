"""Placement under concurrency: on PostgreSQL, reports of one event ingested at the same
moment by several processes (here: several apps, each with its own engine and pipeline, in
threads released by one barrier) give the same timeline as one process on SQLite."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.conftest import PG_URL, Clock, _pg_schema_url, migrated_store
from tests.pipeline.helpers import make_config
from tests.support.feedserver import FeedServer, Item, rss
from tracker.app import open_app
from tracker.config import Config
from tracker.replay import load_replay
from tracker.store.db import make_engine
from tracker.store.tables import EventRow, EventSourceRow, ItemRow, OutboxRow

REPLAY = Path(__file__).resolve().parents[1] / "data" / "replay" / "multi_outlet.toml"
STORIES = ("h20_permit", "huawei_910c_start", "china_guidance")
WATCH_ALL = [{"name": "all", "events": [], "entities": [], "chats": ["desk"]}]
Timeline = list[tuple[str, tuple[str, ...], int, int]]


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TRACKER_TEST_DATABASE_URL "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
    yield from _pg_schema_url(PG_URL)


def _feeds(clock: Clock) -> dict[str, list[Item]]:
    """One feed per outlet; feed n carries the n-th report of every story (same moment)."""
    stories = {s.key: s for s in load_replay(REPLAY).stories}
    feeds: dict[str, list[Item]] = {}
    for key in STORIES:
        for n, r in enumerate(stories[key].reports):
            feeds.setdefault(f"/outlet{n}.xml", []).append(Item(
                title=r.title, description=r.summary, link=f"/{r.id}", guid=r.id,
                pub_date=format_datetime(clock() - timedelta(minutes=5), usegmt=True)))
    return feeds


def _timeline(url: str) -> Timeline:
    """Each event as (type, its sources' GUIDs, distinct outlets, alerts queued), sorted."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            guids: dict[int, list[str]] = {}
            for event_id, guid in s.exec(select(EventSourceRow.event_id, ItemRow.guid).join(
                    ItemRow, ItemRow.id == EventSourceRow.item_id)).all():  # type: ignore[arg-type]
                guids.setdefault(event_id, []).append(guid or "")
            alerts: dict[int | None, int] = {}
            for event_id in s.exec(select(OutboxRow.event_id).where(OutboxRow.kind == "alert")):
                alerts[event_id] = alerts.get(event_id, 0) + 1
            return sorted((e.type, tuple(sorted(guids.get(e.id or 0, []))), e.outlet_count,
                           alerts.get(e.id, 0)) for e in s.exec(select(EventRow)).all())
    finally:
        engine.dispose()


def _config(url: str, srv: FeedServer, feeds: dict[str, list[Item]]) -> Config:
    for path, items in feeds.items():
        srv.add(path, rss(items), content_type="application/rss+xml")
    return make_config(url, [{"url": srv.url(p), "name": p} for p in feeds], WATCH_ALL)


def _one_process(url: str, clock: Clock) -> Timeline:
    feeds = _feeds(clock)
    with FeedServer() as srv:
        cfg = _config(url, srv, feeds)

        async def run() -> None:
            async with open_app(cfg, clock, io.StringIO()) as app:
                await app.pipeline.run_cycle(all_feeds=True)

        asyncio.run(run())
    return _timeline(url)


def _concurrently(url: str, clock: Clock) -> Timeline:
    """Every feed polled by its own app at once: a barrier releases them together."""
    feeds = _feeds(clock)
    for _ in migrated_store(url):
        pass  # the schema first, so the apps start on a migrated database
    errors: list[BaseException] = []
    with FeedServer() as srv:
        cfg = _config(url, srv, feeds)
        barrier = threading.Barrier(len(feeds), timeout=60)

        async def worker(path: str) -> None:
            async with open_app(cfg, clock, io.StringIO()) as app:
                (feed,) = [f for f in app.store.feeds() if f.url == srv.url(path)]
                await asyncio.to_thread(barrier.wait)
                report = await app.pipeline.poll_feed(feed)
                assert report.status == "ok", report.error

        def run(path: str) -> None:
            try:
                asyncio.run(worker(path))
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)
                barrier.abort()

        threads = [threading.Thread(target=run, args=(p,)) for p in feeds]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not errors, errors
    return _timeline(url)


@pytest.mark.postgres
def test_concurrent_ingest_on_postgresql_gives_the_single_process_timeline(
    pg_url: str, sqlite_url: str, clock: Clock
) -> None:
    """Five apps ingesting five outlets' reports of three events at once store three events,
    each with five (or four) sources and one alert: the timeline of one SQLite process."""
    expected = _one_process(sqlite_url, clock)
    assert [t for t, *_ in expected] == sorted(
        ["export_permit", "mass_production", "purchase_guidance"])
    assert all(alerts == 1 for *_, alerts in expected)
    assert _concurrently(pg_url, clock) == expected
