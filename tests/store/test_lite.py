"""The sqlite3-only timeline read gives what the store's own read gives, and steps aside
for anything it does not serve."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.bench_poll import make_feed
from tests.conftest import Clock
from tests.pipeline.helpers import make_config, running
from tests.support.feedserver import FeedServer
from tracker.config import _check_parsed_url, _plain_sqlite
from tracker.model import TimelineEntry
from tracker.store.db import make_engine, upgrade
from tracker.store.lite import LiteTimeline, open_lite, sqlite_file
from tracker.store.repo import Store

START = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite store the real pipeline wrote from six of bench_poll's feeds."""
    url = f"sqlite:///{tmp_path_factory.mktemp('lite') / 'tracker.db'}"

    async def run() -> None:
        with FeedServer() as srv:
            for f in range(6):
                srv.add(f"/feeds/{f}.xml", make_feed(f, 20))
            cfg = make_config(url, [{"url": srv.url(f"/feeds/{f}.xml"), "name": f"feed {f}"}
                                    for f in range(6)], health={"enabled": False})
            async with running(cfg, Clock(START)) as (app, _):
                await app.pipeline.run_cycle(all_feeds=True)

    asyncio.run(run())
    yield url


def _both(url: str) -> tuple[LiteTimeline, Store]:
    lite = open_lite(url)
    assert lite is not None
    return lite, Store(make_engine(url))


def test_every_filter_reads_the_same_entries_as_the_store(written: str) -> None:
    """Entity, types, statuses, dates, limit and order: the same entries, sources and all."""
    lite, store = _both(written)
    everything = store.timeline(limit=None)
    assert len(everything) > 20 and any(len(e.sources) > 1 for e in everything)
    dates = sorted(e.event.sort_date for e in everything)
    middle = dates[len(dates) // 2]
    cases: list[dict[str, object]] = [
        {}, {"limit": None}, {"limit": 3}, {"entity": "nvidia"}, {"entity": "huawei", "limit": 2},
        {"types": ["export_permit", "product_launch"]}, {"statuses": ["reported"]},
        {"since": middle}, {"until": middle}, {"since": middle + timedelta(microseconds=1)},
        {"until": middle + timedelta(microseconds=1)},
        {"entity": "nvidia", "since": middle - timedelta(days=3),
         "until": middle + timedelta(days=3)},
        {"newest_first": False, "limit": None},
        {"entity": "no-such-entity"},
    ]
    try:
        for case in cases:
            mine: list[TimelineEntry] = lite.timeline(**case)  # type: ignore[arg-type]
            theirs = store.timeline(**case)  # type: ignore[arg-type]
            assert mine == theirs, case
        assert lite.timeline(entity="nvidia"), "the fixture names nvidia"
    finally:
        lite.close()
        store.engine.dispose()


def test_it_serves_only_a_migrated_plain_sqlite_file(tmp_path: Path) -> None:
    """No file, a store behind the newest revision, another driver or PostgreSQL: None."""
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    assert open_lite(missing) is None
    assert not (tmp_path / "none.db").exists()
    old = tmp_path / "old.db"
    upgrade(make_engine(f"sqlite:///{old}"), "0009")
    assert open_lite(f"sqlite:///{old}") is None
    sqlite3.connect(tmp_path / "blank.db").close()
    assert open_lite(f"sqlite:///{tmp_path / 'blank.db'}") is None
    assert sqlite_file(f"sqlite+pysqlite:///{old}") is None
    assert sqlite_file("postgresql://u@h/db") is None
    assert sqlite_file(f"sqlite:///{old}?mode=ro") is None
    assert sqlite_file(f"sqlite:///{old}") == old


@pytest.mark.parametrize("url", [
    "sqlite:///t.db", "sqlite:////tmp/a/b.db", "sqlite:///~/x.db", "sqlite:///../up/d-b_1.db",
    "sqlite:///a+b.db", "sqlite:///./d/e.sqlite3"])
def test_plain_sqlite_urls_are_checked_as_sqlalchemy_checks_them(url: str) -> None:
    """The quick check (no SQLAlchemy imported) makes a path absolute exactly as the full
    check does; anything it does not recognise goes to the full check."""
    base = Path("/srv/tracker")
    assert _plain_sqlite(url, base) == _check_parsed_url(url, "f.toml", "database.url", base)


def test_other_urls_are_left_to_the_full_check() -> None:
    """Quoted characters, query strings, drivers and PostgreSQL are not the quick check's."""
    for url in ("sqlite:///a%20b.db", "sqlite:///x.db?mode=ro", "sqlite+pysqlite:///x.db",
                "postgresql://u@h/db", "sqlite://", "sqlite:///:memory:"):
        assert _plain_sqlite(url, Path("/srv")) is None
