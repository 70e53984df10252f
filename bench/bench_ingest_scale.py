"""Ingest at scale: 5,000 new items on an empty store against a store of N stored items.

Builds a synthetic SQLite store of ``--stored`` items (default 1,000,000) with Core bulk
inserts: 1,000 feeds, the items, one timeline event per two items (each with its source,
two entity rows and its status row). The history is dated over the year that ends
``--gap-days`` (default 120) before the bench clock. With the default, most of it lies
outside the new items' placement windows but not all: a "last year" financial result
reads a two-year window. ``--gap-days 1200`` puts it outside every window, which measures
how the reads grow with the store's size alone, not with how busy its recent past was.
(The item search index, ``item_fts``, is not filled for the history.)

Then, in this one process, the real pipeline (shipped config and classifier, identity
placement) ingests bench_poll's first ``--feeds`` feeds × ``--items`` items (default 100 ×
50 = 5,000), served from memory through ``httpx.MockTransport``, in one cycle on a fresh
copy of each store:

- ``empty``: a freshly migrated store;
- ``stored``: the synthetic store;

once with the current reads and once with the reads before issue 14 part 2 swapped in
(``items_after`` as ``IN (SELECT item_id FROM event_source)``; candidates as one
``events_between`` over every type × entity of the feed in the hull of all windows, up to
5,000 rows through the ORM). A warm-up cycle on a throwaway store goes first. Reported per
run: wall and CPU time, CPU per item, and the stored/empty ratio per variant; also the
``items_after`` query alone on the synthetic store, old and new.

Run: ``.venv/bin/python bench/bench_ingest_scale.py [--stored 1000000] [--json PATH]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import httpx
from sqlalchemy import event as sa_event
from sqlalchemy import insert, text

from bench.bench_poll import make_feed
from tracker.store.tables import (
    EventEntityRow,
    EventRow,
    EventSourceRow,
    EventStatusRow,
    FeedRow,
    ItemRow,
)

NOW = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)
HISTORY_DAYS = 365
TYPES = ["export_permit", "export_restriction", "purchase_guidance", "security_review",
         "mass_production", "chip_launch", "financial_results", "supply_constraint"]
COMPANIES = ["nvidia", "huawei", "alibaba", "metax", "cambricon", "smic", "baidu", "tencent",
             "amd", "tsmc", "moore_threads", "biren"]
PRODUCTS = ["h20", "h200", "ascend_910c", "b30a"]
CHUNK = 20_000
PROFILE: Any = None  # a cProfile.Profile around the cycles when --profile is given
STATEMENTS: dict[str, float] = {}  # seconds per SQL statement (first 160 characters), per run


# --- the synthetic store ---------------------------------------------------------------------

def _engine(path: Path) -> Any:
    from tracker.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


Title = Callable[[int, str, str], str]  # (item number, company id, product id) -> title


def _history_title(n: int, company: str, _product: str) -> str:
    return f"خبر تاريخي رقم {n} عن {company}"


def build_store(path: Path, stored: int, gap_days: int = 120, feeds: int = 1000,
                title_of: Title = _history_title) -> float:
    """Fill a migrated SQLite store at ``path`` with ``stored`` items over the year that
    ends ``gap_days`` before the bench clock; seconds it took. ``title_of`` words each
    item's title (bench_desk passes varied spellings of the names)."""
    history_end = NOW - timedelta(days=gap_days)
    started = time.perf_counter()
    engine = _engine(path)
    rng = random.Random(14)
    tables = {name: row.__table__ for name, row in (  # type: ignore[attr-defined]
        ("feed", FeedRow), ("item", ItemRow), ("event", EventRow),
        ("source", EventSourceRow), ("entity", EventEntityRow), ("status", EventStatusRow))}
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.execute(insert(tables["feed"]), [
            {"url": f"https://history{f}.example/feed", "name": f"history {f}",
             "interval_seconds": 900, "active": False, "created_at": NOW, "fetch_count": 1,
             "consecutive_failures": 0} for f in range(feeds)])
    item_id = event_id = 0
    for start in range(0, stored, CHUNK):
        items, events, sources, entities, statuses = [], [], [], [], []
        for n in range(start, min(stored, start + CHUNK)):
            item_id += 1
            seen = history_end - timedelta(seconds=(stored - n) * HISTORY_DAYS * 86400 / stored)
            company, product = COMPANIES[n % 12], PRODUCTS[(n // 12) % 4]
            title = title_of(n, company, product)
            items.append({"id": item_id, "feed_id": 1 + n % feeds, "key": f"guid:h{n}",
                          "guid": f"h{n}", "link": f"https://history.example/{n}",
                          "title": title, "title_key": title, "summary": "ملخص قديم",
                          "content": "", "published": seen, "date_status": "ok",
                          "first_seen": seen})
            if n % 2:
                continue
            event_id += 1
            ents = [{"id": company, "kind": "company", "role": "actor"},
                    {"id": product, "kind": "product", "role": "product"}]
            events.append({
                "id": event_id, "type": TYPES[rng.randrange(8)], "headline": title,
                "event_date": seen.date().isoformat(), "precision": "day", "sort_date": seen,
                "status": "reported", "confidence": 0.8, "entities": json.dumps(ents),
                "entity_keys": f" {company} {product} ", "evidence": "[]", "first_seen": seen,
                "first_outlet": "history", "source_count": 1, "alerted": False,
                "updated_at": seen, "sentence": title, "figures": "[]", "outlet_count": 1,
                "recap": False, "first_reported": seen, "sentences": json.dumps([title]),
                "first_entities": json.dumps(ents)})
            sources.append({"event_id": event_id, "item_id": item_id, "outlet": "history",
                            "url": None, "published": seen, "fetched": seen, "sentence": title,
                            "evidence": "[]", "status": "reported", "recap": False})
            entities += [{"event_id": event_id, "entity_id": e["id"], "role": e["role"],
                          "sort_date": seen} for e in ents]
            statuses.append({"event_id": event_id, "status": "reported", "at": seen})
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            for name, rows in (("item", items), ("event", events), ("source", sources),
                               ("entity", entities), ("status", statuses)):
                if rows:
                    conn.execute(insert(tables[name]), rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


# --- the reads before this change ------------------------------------------------------------

def legacy_items_after(self: Any, last_id: int, since: datetime,
                       chars: int | None = None) -> list[tuple[int, str, datetime]]:
    """``Tx.items_after`` before: every stored source read for the IN list."""
    from sqlmodel import col, select

    from tracker.store.tables import EventSourceRow as Source
    from tracker.store.tables import ItemRow as Item

    rows = self.session.exec(
        select(Item.id, Item.title, Item.summary, Item.first_seen)
        .where(col(Item.id) > last_id, Item.first_seen >= since,
               col(Item.id).in_(select(Source.item_id)))
        .order_by(col(Item.id))).all()
    return [(i, f"{t} {s}", seen) for i, t, s, seen in rows if i is not None]


def legacy_candidates(self: Any, tx: Any, found: Any, now: datetime) -> Any:
    """``Pipeline._candidates`` before: one query over the hull of every window."""
    from tracker.pipeline import _FOLLOW_SPAN
    from tracker.timeline import event_time, main_entities, window
    from tracker.timeline.identity import FOLLOWS

    times: list[datetime] = []
    types: set[str] = set()
    entities: set[str] = set()
    anonymous = False
    for item, events in found:
        for ev in events:
            when = event_time(ev, item.published, item.first_seen)
            span = window(ev) * 2
            times += [when - max(span, _FOLLOW_SPAN), when + span]
            types.add(ev.type)
            types.update(FOLLOWS.get(ev.type, ()))
            mine = main_entities(ev.entities)
            entities |= mine
            anonymous |= not mine
    return tx.events_between(sorted(types), min(times), max(times),
                             () if anonymous else entities, limit=5000)


@contextmanager
def legacy_reads(on: bool) -> Iterator[None]:
    """The reads before this change swapped in while the block runs (when ``on``)."""
    from tracker.pipeline import Pipeline
    from tracker.store.repo import Tx

    saved = Tx.items_after, Pipeline._candidates
    if on:
        Tx.items_after = legacy_items_after  # type: ignore[method-assign]
        Pipeline._candidates = legacy_candidates  # type: ignore[method-assign]
    try:
        yield
    finally:
        Tx.items_after, Pipeline._candidates = saved  # type: ignore[method-assign]


# --- one ingest ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    store: str
    reads: str
    items: int
    wall_s: float
    cpu_s: float
    cpu_ms_per_item: float
    queries: int


async def _ingest(db_path: Path, config: Any, engine: Any, feeds: int, items: int
                  ) -> tuple[int, int, float, float]:
    """The cycle's new item count, SQL statements, wall and CPU seconds (the cycle only)."""
    from tracker.app import fetch_settings, pipeline_settings
    from tracker.config import FeedConfig
    from tracker.feeds.fetch import Fetcher
    from tracker.model import Watchlist
    from tracker.pipeline import Pipeline
    from tracker.store.repo import Store

    bodies = {f"http://bench.invalid/feeds/{f}.xml": make_feed(f, items) for f in range(feeds)}
    db = _engine(db_path)
    queries = [0]
    started: list[float] = []

    def before(*_: Any) -> None:
        queries[0] += 1
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = " ".join(statement.split())[:160]
        STATEMENTS[key] = STATEMENTS.get(key, 0.0) + time.perf_counter() - started.pop()

    sa_event.listen(db, "before_cursor_execute", before)
    sa_event.listen(db, "after_cursor_execute", after)
    store = Store(db)
    store.sync_feeds([FeedConfig(url=url, name=f"bench {n}", interval=timedelta(minutes=15),
                                 timezone=None) for n, url in enumerate(bodies)], NOW)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[str(request.url)],
                              headers={"content-type": "application/rss+xml; charset=utf-8"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        fetcher = Fetcher(client, fetch_settings(config), clock=lambda: NOW)
        pipeline = Pipeline(store, engine, lambda _url: fetcher,
                            (Watchlist("all", chats=("desk",)),), lambda: NOW,
                            replace(pipeline_settings(config), identity=True), "bench")
        queries[0] = 0
        STATEMENTS.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        if PROFILE is not None:
            PROFILE.enable()
        await pipeline.run_cycle(all_feeds=True)
        if PROFILE is not None:
            PROFILE.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stored = store.counts()["items"]
    db.dispose()
    return stored, queries[0], wall, cpu


def ingest(db_path: Path, config: Any, engine: Any, feeds: int, items: int, label: str,
           legacy: bool) -> Run:
    """One cycle ingesting the bench feeds into the store at ``db_path``, timed."""
    before = _engine(db_path)
    with before.connect() as conn:
        had = conn.exec_driver_sql("SELECT COUNT(*) FROM item").scalar_one()
    before.dispose()
    with legacy_reads(legacy):
        total, queries, wall, cpu = asyncio.run(_ingest(db_path, config, engine, feeds, items))
    new = total - had
    return Run(label, "before" if legacy else "after", new, round(wall, 2), round(cpu, 2),
               round(cpu * 1000 / max(new, 1), 3), queries)


def time_items_after(db_path: Path, repeat: int = 5) -> dict[str, float]:
    """Milliseconds (best of ``repeat``) of items_after on a store, old and new query."""
    from tracker.store.repo import Store, Tx

    db = _engine(db_path)
    store = Store(db)
    since = NOW - timedelta(days=3)
    out = {}
    for name, fn in (("before", legacy_items_after), ("after", Tx.items_after)):
        best = float("inf")
        for _ in range(repeat):
            with store.tx() as tx:
                tx.session.execute(text("SELECT 1"))  # the transaction begun, off the clock
                t = time.perf_counter()
                fn(tx, 0, since)
                best = min(best, time.perf_counter() - t)
        out[name] = round(best * 1000, 3)
    db.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="reuse (or keep) the synthetic store here")
    parser.add_argument("--top", type=int, default=0,
                        help="print each run's N slowest SQL statements (total time)")
    parser.add_argument("--gap-days", type=int, default=120,
                        help="the synthetic history ends this many days before the clock")
    parser.add_argument("--reads", default="after,before",
                        help="which reads to run: after, before or both (default)")
    parser.add_argument("--profile", action="store_true",
                        help="profile the stored store's run with the current reads")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from tracker.app import load_classifier
    from tracker.config import load_config

    config = load_config(Path(__file__).resolve().parents[1] / "config" / "tracker.toml",
                         env={})
    engine = load_classifier(config)
    with tempfile.TemporaryDirectory(prefix="tracker-scale-") as tmp:
        work = Path(tmp)
        big = args.keep or work / "stored.db"
        build_s = 0.0
        if not big.exists():
            build_s = build_store(big, args.stored, args.gap_days)
            print(f"built {args.stored:,} stored items in {build_s:.1f} s", file=sys.stderr)
        empty = work / "empty.db"
        _engine(empty).dispose()
        ingest(work / "warm.db", config, engine, args.feeds, args.items, "warm-up", False)
        runs = []
        for legacy in [v == "before" for v in args.reads.split(",")]:
            for label, source in (("empty", empty), ("stored", big)):
                target = work / f"run-{label}.db"
                shutil.copyfile(source, target)
                global PROFILE
                if args.profile and label == "stored" and not legacy:
                    import cProfile
                    PROFILE = cProfile.Profile()
                run = ingest(target, config, engine, args.feeds, args.items, label, legacy)
                if PROFILE is not None:
                    import pstats
                    pstats.Stats(PROFILE, stream=sys.stderr).sort_stats("tottime").print_stats(25)
                    PROFILE = None
                print(json.dumps(asdict(run)), file=sys.stderr)
                for sql, secs in sorted(STATEMENTS.items(), key=lambda kv: -kv[1])[:args.top]:
                    print(f"   {secs * 1000:9.1f} ms  {sql}", file=sys.stderr)
                runs.append(run)
                target.unlink()
        query = time_items_after(big)
    ratio = {r: round(next(x.cpu_s for x in runs if x.reads == r and x.store == "stored")
                      / next(x.cpu_s for x in runs if x.reads == r and x.store == "empty"), 2)
             for r in args.reads.split(",")}
    result = {"stored_items": args.stored, "build_s": round(build_s, 1),
              "new_items": args.feeds * args.items, "runs": [asdict(r) for r in runs],
              "stored_over_empty_cpu": ratio, "items_after_ms": query}
    print(f"{'store':8} {'reads':7} {'items':>6} {'wall s':>8} {'CPU s':>7} {'ms/item':>8}"
          f" {'queries':>8}")
    for r in runs:
        print(f"{r.store:8} {r.reads:7} {r.items:6d} {r.wall_s:8.2f} {r.cpu_s:7.2f}"
              f" {r.cpu_ms_per_item:8.3f} {r.queries:8d}")
    print("stored/empty CPU: " + ", ".join(f"{r} {x}×" for r, x in ratio.items()))
    print(f"items_after on the stored store: before {query['before']} ms, "
          f"after {query['after']} ms")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
