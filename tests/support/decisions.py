"""What the pipeline decided on bench_poll's feeds, as canonical table contents.

:func:`decisions` runs three cycles of the real pipeline (a cold one, one where every feed
answers 304, and one where a few feeds grew) over the first feeds of ``bench/bench_poll.py``
served on loopback, one feed at a time so the order is fixed, with a clock set by hand; then
reads back every row of the tables that hold decisions (items, events, their sources,
entities and status history, the outbox, the feeds' fetch state). Columns that hold chance
(the jittered next poll time) are left out and the server's address is replaced by
``BASE``, so two runs of the same code give the same rows.

``tests/data/perf/decisions.json`` holds the per-table digests that the code before the
speed work produced: ``.venv/bin/python -m tests.support.decisions`` writes it.
:func:`replay_decisions` reads the same tables after the multi-outlet replay;
``tests/data/perf/replay_decisions.json``, written by ``… decisions replay`` with the code
before issue 14's third part (63cb9c3), holds their digests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

from bench.bench_poll import LAST_MODIFIED, make_feed
from tests.conftest import Clock
from tests.pipeline.helpers import make_config, running
from tests.support.feedserver import FeedServer, http_date

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "data" / "perf" / "decisions.json"
REPLAY_FIXTURE = REPO / "tests" / "data" / "perf" / "replay_decisions.json"
REPLAY = REPO / "tests" / "data" / "replay" / "multi_outlet.toml"
FEEDS, ITEMS, GROWN = 16, 30, (3, 7, 11)
TABLES = ("item", "event", "event_source", "event_entity", "event_status", "outbox", "feed")
CHANCE = {"feed": {"next_poll_at", "lease_expires"}}  # jittered on purpose
WATCHLISTS = [
    {"name": "all", "events": [], "entities": [], "chats": ["desk"]},
    {"name": "nvidia-permits", "events": ["export_permit"], "entities": ["nvidia"],
     "chats": ["nv"]},
]


def _plain(value: Any, base: str) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, str):
        return value.replace(base, "BASE")
    return value


async def _run(db_url: str) -> dict[str, list[dict[str, Any]]]:
    clock = Clock(datetime(2025, 8, 29, 12, 0, tzinfo=UTC))
    with FeedServer() as srv:
        for f in range(FEEDS):
            srv.add(f"/feeds/{f}.xml", make_feed(f, ITEMS), etag=f'"feed-{f}-v1"',
                    last_modified=http_date(LAST_MODIFIED - timedelta(minutes=f)))
        cfg = make_config(db_url, [{"url": srv.url(f"/feeds/{f}.xml"), "name": f"feed {f}"}
                                   for f in range(FEEDS)], WATCHLISTS,
                          scheduler={"max_concurrent_feeds": 1}, health={"enabled": False})
        base = srv.url("")
        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)  # cold
            clock.advance(minutes=30)
            await app.pipeline.run_cycle(all_feeds=True)  # every feed answers 304
            clock.advance(minutes=30)
            for f in GROWN:
                srv.set_body(f"/feeds/{f}.xml", make_feed(f, ITEMS + 8), etag=f'"feed-{f}-v2"')
            await app.pipeline.run_cycle(all_feeds=True)  # a few feeds grew
            out = table_rows(app.store.engine, base)
    return out


def table_rows(engine: Engine, base: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the decision tables, in id order, chance left out, ``base`` replaced."""
    meta = MetaData()
    meta.reflect(engine, only=TABLES)
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name in TABLES:
            table = meta.tables[name]
            skip = CHANCE.get(name, set())
            out[name] = [
                {k: _plain(v, base) for k, v in row._mapping.items() if k not in skip}
                for row in conn.execute(select(table).order_by(table.c.id))]
    return out


def replay_decisions() -> dict[str, list[dict[str, Any]]]:
    """Every decision row of the multi-outlet replay (``tests/data/replay``) run through the
    real pipeline with the shipped config (its clock is the reports' own times)."""
    from tracker.config import load_config
    from tracker.replay import load_replay, run_replay

    rows: dict[str, list[dict[str, Any]]] = {}
    config = load_config(REPO / "config" / "tracker.toml", env={})
    asyncio.run(run_replay(load_replay(REPLAY), config, inspect=lambda store: rows.update(
        table_rows(store.engine, "http://replay.invalid"))))
    return rows


def decisions(db_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every decision row of three cycles over bench_poll's first feeds (see the module)."""
    return asyncio.run(_run(db_url))


def digests(rows: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per table: the row count and a SHA-256 of its canonical JSON."""
    return {name: {"rows": len(table), "sha256": hashlib.sha256(json.dumps(
        table, ensure_ascii=False, sort_keys=True).encode()).hexdigest()}
        for name, table in rows.items()}


def main() -> None:
    """``python -m tests.support.decisions [bench|replay]``: write that fixture."""
    which = sys.argv[1] if len(sys.argv) > 1 else "bench"
    if which == "replay":
        found, target = digests(replay_decisions()), REPLAY_FIXTURE
    else:
        with tempfile.TemporaryDirectory() as tmp:
            found = digests(decisions(f"sqlite:///{Path(tmp) / 'tracker.db'}"))
        target = FIXTURE
    target.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(found, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
