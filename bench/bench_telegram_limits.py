"""Benchmark: Telegram's limits held by a 3-sender cluster, against the Bot API stand-in.

Three senders (three engines, nothing shared but the SQLite database) drain one outbox:
``--chats`` private chats × ``--alerts`` alerts each, per-chat interval 1 s. Chat 0 gets a
flood wait (429, ``retry_after`` 3 s) on its first message; half-way, the whole bot gets one
(2 s). The stand-in records when each message arrived and every call made during a wait it
had announced (beyond 0.15 s of grace for calls already in flight).

The baseline, in the same run, is the sender as it was before issue 12: spacing kept per
process only, and a 429 delaying just the row that got it (a wrapper restores both).

    .venv/bin/python bench/bench_telegram_limits.py [--chats 12] [--alerts 4]

Reports, per mode: sends closer than 1 s to one chat, the closest gap, calls made during a
flood wait, messages lost or doubled, and the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import Clock  # noqa: E402
from tests.support.botapi import BotApiServer  # noqa: E402
from tests.telegram.helpers import TOKEN, FakeLabels, enqueue, make_event  # noqa: E402
from tracker.alerts.outbox import OutboxMessage, RetryLater, drain  # noqa: E402
from tracker.store.botport import StoreForBot  # noqa: E402
from tracker.store.db import make_engine, upgrade  # noqa: E402
from tracker.store.repo import Store  # noqa: E402
from tracker.store.subscribers import outbox_states  # noqa: E402
from tracker.telegram.sender import SenderSettings, TelegramNotifier, make_bot  # noqa: E402

INTERVAL = 1.0


class Before:
    """The sender before issue 12: no cluster-wide pacing (no ``chat_interval``) and a 429
    that delays only its own row (no flood wait held for the chat)."""

    def __init__(self, inner: TelegramNotifier) -> None:
        self.inner = inner

    async def prepare(self, messages: Sequence[OutboxMessage]) -> None:
        await self.inner.prepare(messages)

    async def deliver(self, message: OutboxMessage) -> str | None:
        try:
            return await self.inner.deliver(message)
        except RetryLater as exc:
            raise RetryLater(str(exc), exc.after_seconds) from exc


def wall() -> datetime:
    return datetime.now(UTC)


async def _sender(store: Store, api: BotApiServer, owner: str, baseline: bool,
                  deadline: float) -> None:
    bot = make_bot(TOKEN, SenderSettings(api_url=api.base_url + "/bot",
                                         overall_per_second=1000, timeout=5))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), FakeLabels(),
                                    per_chat_interval=INTERVAL)
        target = Before(notifier) if baseline else notifier
        while any(k.endswith("/pending") for k in outbox_states(store)):
            if time.monotonic() > deadline:
                return
            await drain(store, target, wall, owner, batch=20, concurrency=10)
            await asyncio.sleep(0.05)


async def run(chats: int, alerts: int, baseline: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, BotApiServer() as api:
        url = f"sqlite:///{Path(tmp) / 'limits.db'}"
        engines = [make_engine(url) for _ in range(3)]
        upgrade(engines[0])
        stores = [Store(e) for e in engines]
        clock = Clock(wall())
        for chat in range(chats):
            for n in range(alerts):
                enqueue(stores[0], clock, make_event(stores[0], clock, headline=f"خبر {n}"),
                        [chat + 1])
        api.flood(3, chat_id=1)
        started = time.monotonic()

        async def bot_wide_flood() -> None:
            await asyncio.sleep(INTERVAL * alerts / 2)
            api.flood(2)

        flood = asyncio.create_task(bot_wide_flood())
        await asyncio.gather(*(_sender(s, api, f"p{i}", baseline, started + 90)
                               for i, s in enumerate(stores)))
        elapsed = time.monotonic() - started
        await flood
        gaps = []
        for chat in range(1, chats + 1):
            times = [s.at for s in api.sent(chat)]
            gaps += [b - a for a, b in itertools.pairwise(times)]
        counts = [len(api.sent(c)) for c in range(1, chats + 1)]
        for e in engines:
            e.dispose()
        return {"too_close": sum(g < INTERVAL - 0.01 for g in gaps),
                "closest": min(gaps) if gaps else float("nan"),
                "flood_violations": len(api.violations),
                "lost": sum(max(0, alerts - c) for c in counts),
                "doubled": sum(max(0, c - alerts) for c in counts), "wall": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=12)
    parser.add_argument("--alerts", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    ours = asyncio.run(run(args.chats, args.alerts, baseline=False))
    before = asyncio.run(run(args.chats, args.alerts, baseline=True))
    print(f"{args.chats} chats × {args.alerts} alerts, 3 senders on one SQLite, "
          f"per-chat interval {INTERVAL:.0f} s, flood waits: chat 1 (3 s), whole bot (2 s)")
    print(f"{'':22}{'issue 12':>12}{'before':>12}")
    for key, fmt in (("too_close", "{}"), ("closest", "{:.3f} s"),
                     ("flood_violations", "{}"), ("lost", "{}"), ("doubled", "{}"),
                     ("wall", "{:.1f} s")):
        print(f"{key:22}{fmt.format(ours[key]):>12}{fmt.format(before[key]):>12}")
    ok = ours["too_close"] == 0 and ours["flood_violations"] == 0 and ours["lost"] == 0 \
        and ours["doubled"] == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
