"""Benchmark: a timeline query by entity over 1,000,000 stored items on SQLite.

Builds (once, cached under bench/out/) a SQLite database through the real migrations with
1,000,000 items, 300,000 timeline events spread over two years and 40 entities, then times
``Store.timeline(entity=…, limit=50)`` — the query ``tracker timeline --entity`` runs, through
the event_entity index — against a baseline in the same run: the same filter as a substring
match on the event's entity list (what a schema without the index would do).

    python bench/bench_timeline.py [--items 1000000] [--runs 30]

Target: the query under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from tracker.store.db import make_engine, upgrade
from tracker.store.repo import Store

OUT = Path(__file__).resolve().parent / "out"
ENTITIES = [f"entity_{i:02d}" for i in range(38)] + ["nvidia", "huawei"]
TYPES = ["export_permit", "export_restriction", "purchase_guidance", "security_review",
         "mass_production", "chip_launch", "financial_results", "supply_constraint"]


def build(path: Path, items: int) -> None:
    rng = random.Random(7)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    n_events = items * 3 // 10
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO feed (url, name, interval_seconds, active, fetch_count, "
                          "consecutive_failures, created_at) VALUES ('https://b/f', 'bench', "
                          "900, 1, 0, 0, '2024-01-01 00:00:00')"))
        batch = []
        for i in range(1, items + 1):
            seen = (start + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
            batch.append({"id": i, "key": f"guid:{i}", "title": f"خبر رقم {i} عن الرقائق",
                          "tk": f"خبر رقم {i}", "seen": seen})
            if len(batch) == 50_000:
                _items(conn, batch)
                batch = []
        _items(conn, batch)
        events, links, sources = [], [], []
        for e in range(1, n_events + 1):
            when = start + timedelta(minutes=rng.randrange(items))
            ents = rng.sample(ENTITIES, 2)
            stamp = when.strftime("%Y-%m-%d %H:%M:%S")
            events.append({"id": e, "type": rng.choice(TYPES), "d": stamp,
                           "ents": json.dumps([{"id": x, "kind": "company", "role": "actor"}
                                               for x in ents]),
                           "keys": " " + " ".join(sorted(ents)) + " "})
            links += [{"e": e, "x": x, "d": stamp} for x in ents]
            sources.append({"e": e, "i": rng.randrange(1, items + 1), "d": stamp})
            if len(events) == 50_000:
                _events(conn, events, links, sources)
                events, links, sources = [], [], []
        _events(conn, events, links, sources)
    engine.dispose()


def _items(conn, batch):  # type: ignore[no-untyped-def]
    if not batch:
        return
    conn.execute(text(
        "INSERT INTO item (id, feed_id, key, title, title_key, summary, content, date_status,"
        " first_seen) VALUES (:id, 1, :key, :title, :tk, '', '', 'ok', :seen)"), batch)


def _events(conn, events, links, sources):  # type: ignore[no-untyped-def]
    if not events:
        return
    conn.execute(text(
        "INSERT INTO event (id, type, headline, sort_date, status, confidence, entities,"
        " entity_keys, evidence, first_seen, first_outlet, source_count, alerted, updated_at)"
        " VALUES (:id, :type, 'عنوان', :d, 'reported', 0.9, :ents, :keys, '[]', :d, 'bench',"
        " 1, 0, :d)"), events)
    conn.execute(text("INSERT INTO event_entity (event_id, entity_id, role, sort_date)"
                      " VALUES (:e, :x, 'actor', :d)"), links)
    conn.execute(text("INSERT INTO event_source (event_id, item_id, outlet, fetched, sentence,"
                      " evidence, status, recap) VALUES (:e, :i, 'bench', :d, '', '[]',"
                      " 'reported', 0)"), sources)


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"timeline-{args.items}.db"
    if not path.exists():
        t = time.perf_counter()
        build(path, args.items)
        print(f"built {path.name} in {time.perf_counter() - t:.0f} s")
    store = Store(make_engine(f"sqlite:///{path}"))
    with store.engine.connect() as conn:
        counts = {t: conn.execute(text(f"select count(*) from {t}")).scalar()
                  for t in ("item", "event", "event_entity", "event_source")}
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    since = datetime(2025, 6, 1, tzinfo=UTC)

    def indexed() -> None:
        store.timeline(entity="nvidia", limit=50)

    def indexed_range() -> None:
        store.timeline(entity="huawei", since=since, until=since + timedelta(days=30),
                       limit=200)

    def like(sql_range: str) -> None:
        with store.engine.connect() as conn:
            conn.execute(text(
                f"SELECT * FROM event WHERE entity_keys LIKE :k {sql_range}"
                " ORDER BY sort_date DESC LIMIT :n"),
                {"k": "% nvidia %" if not sql_range else "% huawei %",
                 "n": 50 if not sql_range else 200, "a": since.strftime("%Y-%m-%d"),
                 "b": (since + timedelta(days=30)).strftime("%Y-%m-%d")}).all()

    indexed()  # warm the page cache for both
    like("")
    month = "AND sort_date >= :a AND sort_date < :b"
    rows = [("timeline --entity nvidia: 50 newest, with sources", *timed(indexed, args.runs)),
            ("  baseline: LIKE on entity list, 50 newest, no sources",
             *timed(lambda: like(""), args.runs)),
            ("timeline --entity huawei: one month, ≤200, with sources",
             *timed(indexed_range, args.runs)),
            ("  baseline: LIKE on entity list, one month, ≤200, no sources",
             *timed(lambda: like(month), args.runs))]
    print(f"\n{'query':<60} {'median ms':>10} {'max ms':>9}")
    for name, med, worst in rows:
        print(f"{name:<60} {med:>10.2f} {worst:>9.2f}")
    print(f"\ntarget: under 50 ms — {'met' if rows[0][1] < 50 and rows[2][1] < 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
