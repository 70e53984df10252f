"""Benchmark: the web desk's server time over 1,000,000 stored items on SQLite.

Builds (once, cached under bench/out/) a SQLite database through the real migrations:
1,000,000 items with synthetic Arabic/Latin titles (our own word lists: company names in
several spellings, chip products, verbs), 300,000 timeline events over two years, the search
index filled by ``DeskStore.refresh_search`` (the code the desk runs). Then it times requests
to the desk's ASGI app in process (httpx's ASGI transport: routing, the query, the template —
server time, no sockets) against baselines in the same run: a search as ``LIKE '%…%'`` over
titles (no index; one spelling only) and a deep timeline page.

    python bench/bench_desk.py [--items 1000000] [--runs 20]

Target: timeline page and a search under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from tracker.app import desk_app, load_classifier
from tracker.config import parse_config
from tracker.store.db import make_engine, upgrade
from tracker.store.desk import DeskStore
from tracker.store.repo import Store

REPO = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
COMPANIES = [("إنفيديا", "nvidia"), ("انفيديا", "nvidia"), ("Nvidia", "nvidia"),
             ("هواوي", "huawei"), ("Huawei", "huawei"), ("علي بابا", "alibaba"),
             ("ميتا إكس", "metax"), ("كامبريكون", "cambricon"), ("إيه إم دي", "amd")]
PRODUCTS = ["رقائق H20", "شريحة أسيند 910C", "معالجات الذكاء الاصطناعي", "شرائح الاستدلال",
            "وحدات الذاكرة عالية النطاق", "خوادم التدريب"]
VERBS = ["تعلن", "تكشف عن", "تبدأ شحن", "تخفض أسعار", "تواجه نقصًا في", "تطور",
         "تناقش مع الموردين", "ترفع إنتاج"]
TAILS = ["في الربع المقبل", "وسط قيود التصدير", "لعملاء في الصين", "بحسب مصادر مطلعة",
         "مع بداية العام", "بعد مفاوضات طويلة", ""]
OTHER = ["أمطار غزيرة على العاصمة", "ارتفاع أسعار الذهب", "مباراة حاسمة في الدوري",
         "افتتاح معرض الكتاب", "خطة جديدة للنقل العام"]
TYPES = ["export_permit", "export_restriction", "purchase_guidance", "security_review",
         "mass_production", "chip_launch", "financial_results", "supply_constraint"]


def _title(rng: random.Random, i: int) -> tuple[str, str | None]:
    if rng.random() < 0.3:
        return f"{rng.choice(OTHER)} ({i})", None
    name, eid = rng.choice(COMPANIES)
    return (f"{name} {rng.choice(VERBS)} {rng.choice(PRODUCTS)} {rng.choice(TAILS)} "
            f"({i})").replace("  ", " "), eid


def build(path: Path, items: int) -> None:
    rng = random.Random(13)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    start = datetime(2024, 12, 1, tzinfo=UTC)
    span = int(timedelta(days=730).total_seconds() // 60)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO feed (url, name, interval_seconds, active, fetch_count, "
                          "consecutive_failures, created_at) VALUES ('https://b/f', 'bench', "
                          "900, 1, 0, 0, '2024-12-01 00:00:00')"))
        batch: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for i in range(1, items + 1):
            seen = start + timedelta(minutes=i * span // items)
            stamp = seen.strftime("%Y-%m-%d %H:%M:%S")
            title, eid = _title(rng, i)
            batch.append({"id": i, "key": f"guid:{i}", "title": title, "tk": f"t{i}",
                          "seen": stamp})
            if eid is not None and rng.random() < 0.43:  # ~300,000 events of 1,000,000
                events.append({"type": rng.choice(TYPES), "h": title, "d": stamp,
                               "ents": json.dumps([{"id": eid, "kind": "company",
                                                    "role": "actor"}]),
                               "keys": f" {eid} ", "i": i, "x": eid})
            if len(batch) == 50_000:
                _flush(conn, batch, events)
                batch, events = [], []
        _flush(conn, batch, events)
    desk = DeskStore(Store(engine))
    t = time.perf_counter()
    indexed = desk.refresh_search(batch=20_000)
    print(f"indexed {indexed:,} items for search in {time.perf_counter() - t:.0f} s")
    engine.dispose()


def _flush(conn: Any, batch: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    if batch:
        conn.execute(text(
            "INSERT INTO item (id, feed_id, key, title, title_key, summary, content,"
            " date_status, first_seen, published) VALUES (:id, 1, :key, :title, :tk, '', '',"
            " 'ok', :seen, :seen)"), batch)
    if not events:
        return
    first = (conn.execute(text("SELECT coalesce(max(id), 0) FROM event")).scalar() or 0) + 1
    for n, ev in enumerate(events):
        ev["id"] = first + n
    conn.execute(text(
        "INSERT INTO event (id, type, headline, sort_date, status, confidence, entities,"
        " entity_keys, evidence, first_seen, first_outlet, source_count, alerted, updated_at)"
        " VALUES (:id, :type, :h, :d, 'reported', 0.9, :ents, :keys, '[]', :d, 'bench',"
        " 1, 0, :d)"), events)
    conn.execute(text("INSERT INTO event_entity (event_id, entity_id, role, sort_date)"
                      " VALUES (:id, :x, 'actor', :d)"), events)
    conn.execute(text("INSERT INTO event_source (event_id, item_id, outlet, fetched, sentence,"
                      " evidence, status, recap, url, published) VALUES (:id, :i, 'bench', :d,"
                      " :h, '[]', 'reported', 0, 'https://b/a', :d)"), events)


async def timed(client: httpx.AsyncClient, path: str, runs: int,
                expect: str | None = None) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        r = await client.get(path)
        samples.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (path, r.status_code)
        if expect is not None:
            assert expect in r.text, (path, expect)
    return statistics.median(samples), max(samples)


def like_search(store: Store, words: list[str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        with store.engine.connect() as conn:
            conn.execute(text("SELECT id, title FROM item WHERE " + " OR ".join(
                f"title LIKE :w{n}" for n in range(len(words))) + " ORDER BY id DESC LIMIT 51"),
                {f"w{n}": f"%{w}%" for n, w in enumerate(words)}).all()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples)


async def run(path: Path, items: int, runs: int) -> list[tuple[str, float, float]]:
    cfg = parse_config({"database": {"url": f"sqlite:///{path}"}},
                       REPO / "config" / "tracker.toml", env={})
    engine = load_classifier(cfg)
    store = Store(make_engine(cfg.database_url))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    app = desk_app(cfg, store, engine, lambda: now, host="127.0.0.1")
    transport = httpx.ASGITransport(app=app)
    rows = []
    async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
        await client.get("/")  # warm the page cache
        await client.get("/search?q=Nvidia")
        rows.append(("GET / (timeline, newest 50 with sources)",
                     *await timed(client, "/", runs, 'class="event"')))
        rows.append(("GET /?entity=إنفيديا (by Arabic name)",
                     *await timed(client, "/?entity=إنفيديا", runs, 'class="event"')))
        rows.append(("GET /?type=chip_launch&page=20",
                     *await timed(client, "/?type=chip_launch&page=20", runs, 'class="event"')))
        rows.append(("GET /search?q=Nvidia (all spellings, FTS5)",
                     *await timed(client, "/search?q=Nvidia", runs, "<li>")))
        rows.append(("GET /search?q=انفيديا H20",
                     *await timed(client, "/search?q=انفيديا%20H20", runs, "<li>")))
        rows.append(("  baseline: LIKE over titles, 3 spellings of Nvidia, no index",
                     *like_search(store, ["إنفيديا", "انفيديا", "Nvidia"], max(3, runs // 4))))
        number = items // 2 + 7  # one item's number: the index answers, LIKE reads every title
        rare = f"({number})"
        rows.append((f"GET /search?q={number} (a rare term)",
                     *await timed(client, f"/search?q={number}", runs, "<li>")))
        rows.append(("  baseline: LIKE over titles, the rare term",
                     *like_search(store, [rare], max(3, runs // 4))))
        rows.append(("GET /?page=2000 (deep timeline page)",
                     *await timed(client, "/?page=2000", max(3, runs // 4))))
    store.engine.dispose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"desk-{args.items}.db"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.items)
        print(f"built {path.name} in {time.perf_counter() - t:.0f} s")
    rows = asyncio.run(run(path, args.items, args.runs))
    print(f"\n{'request (server time, in process)':<62} {'median ms':>10} {'max ms':>9}")
    for name, med, worst in rows:
        print(f"{name:<62} {med:>10.2f} {worst:>9.2f}")
    met = rows[0][1] < 100 and rows[3][1] < 100 and rows[4][1] < 100 and rows[6][1] < 100
    print(f"\ntarget: timeline page and search under 100 ms — {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
