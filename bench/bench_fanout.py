"""Benchmark: one alert fanned out to 10,000 subscribers through the Bot API stand-in.

The stand-in runs in a child process (its CPU does not count). The sender uses the real PTB
client with ``AIORateLimiter`` at an overall 500 messages/s, so the limit allows the whole
fan-out in 20 s; the target is to finish within 10% of that, losing and doubling nothing.

    .venv/bin/python bench/bench_fanout.py [--subscribers 10000] [--rate 500]

Reports the measured rate, the wall time, the sender's CPU time, and per-chat delivery
counts as the stand-in saw them (lost: chats with none, doubled: chats with more than one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.telegram.helpers import FakeLabels, make_event  # noqa: E402
from tracker.alerts.outbox import drain  # noqa: E402
from tracker.store.botport import StoreForBot  # noqa: E402
from tracker.store.db import make_engine, upgrade  # noqa: E402
from tracker.store.repo import Store  # noqa: E402
from tracker.store.subscribers import delivered_counts  # noqa: E402
from tracker.store.tables import OutboxRow, SubscriberRow  # noqa: E402
from tracker.telegram.sender import SenderSettings, TelegramNotifier, make_bot  # noqa: E402


class _Clock:
    def __call__(self) -> datetime:
        return datetime.now(UTC)


def _stats(base: str) -> dict[str, object]:
    with urllib.request.urlopen(base + "/_control/stats", data=b"{}", timeout=30) as resp:
        result: dict[str, object] = json.load(resp)
        return result


def _prepare(store: Store, subscribers: int) -> None:
    clock = _Clock()
    now = clock()
    event_id = make_event(store, clock, headline="إنفيديا تستأنف شحن H20 إلى الصين")
    with store.engine.begin() as conn:
        conn.execute(insert(SubscriberRow), [
            {"chat_id": str(10_000_000 + i), "lang": "ar" if i % 3 else "en", "mode": "instant",
             "active": True, "created_at": now} for i in range(subscribers)])
        conn.execute(insert(OutboxRow), [
            {"event_id": event_id, "chat_id": str(10_000_000 + i), "kind": "alert",
             "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
             "sent_source_count": 0} for i in range(subscribers)])


async def _run(base: str, store: Store, rate: float, concurrency: int,
               pool: int) -> tuple[float, float]:
    settings = SenderSettings(api_url=base + "/bot", overall_per_second=rate,
                              connection_pool=pool)
    bot = make_bot("123456:BENCH", settings)
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), FakeLabels(),
                                    per_chat_interval=settings.per_chat_interval)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = await drain(store, notifier, _Clock(), "bench", batch=500,
                             concurrency=concurrency)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if report.failed or report.retried:
        print(f"warning: {report}")
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--concurrency", type=int, default=50, help="drain slots (its default)")
    parser.add_argument("--pool", type=int, default=8, help="HTTP connections to the Bot API")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    server = subprocess.Popen(
        [sys.executable, str(REPO / "tests/support/botapi.py"), "--no-calls"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            upgrade(engine)
            store = Store(engine)
            _prepare(store, args.subscribers)
            wall, cpu = asyncio.run(_run(base, store, args.rate, args.concurrency, args.pool))
            recorded = delivered_counts(store)
            engine.dispose()
        stats = _stats(base)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)

    counts: dict[str, int] = stats["counts"]  # type: ignore[assignment]
    wanted = {str(10_000_000 + i) for i in range(args.subscribers)}
    lost = len(wanted - counts.keys())
    doubled = sum(1 for c in wanted if counts.get(c, 0) > 1)
    allowed = args.subscribers / args.rate
    ok = lost == 0 and doubled == 0 and wall <= allowed * 1.10 and len(recorded) == len(wanted)
    print(f"subscribers        {args.subscribers}")
    print(f"delivered          {sum(counts.values())} (stand-in), "
          f"{sum(recorded.values())} marked sent (store)")
    print(f"lost / doubled     {lost} / {doubled}")
    print(f"rejected (400)     {stats['rejected']}")
    print(f"wall time          {wall:.2f} s  (limit allows {allowed:.1f} s, target "
          f"≤ {allowed * 1.1:.1f} s)")
    print(f"rate               {args.subscribers / wall:.0f} msg/s (limit {args.rate:.0f})")
    print(f"sender CPU time    {cpu:.2f} s ({cpu / wall:.0%} of one core)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
