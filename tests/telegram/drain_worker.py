"""Child process of the crash test: drains a SQLite outbox into the Bot API stand-in until
nothing is pending. ``--offset`` moves its clock forward (past the leases of a killed run)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

from tests.telegram.helpers import TOKEN, FakeLabels
from tracker.alerts.outbox import drain
from tracker.store.botport import StoreForBot
from tracker.store.db import make_engine
from tracker.store.repo import Store
from tracker.store.subscribers import outbox_states
from tracker.telegram.sender import SenderSettings, TelegramNotifier, make_bot


async def run(store: Store, api_url: str, offset: float, concurrency: int, rate: float) -> None:
    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset)

    bot = make_bot(TOKEN, SenderSettings(api_url=api_url, overall_per_second=rate,
                                         per_chat_interval=0.0, timeout=5.0))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), FakeLabels(),
                                    per_chat_interval=0.0)
        while any(k.endswith("/pending") for k in outbox_states(store)):
            await drain(store, notifier, clock, "worker", batch=50, concurrency=concurrency)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("api_url")
    parser.add_argument("--offset", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rate", type=float, default=300.0)
    args = parser.parse_args()
    store = Store(make_engine(args.database_url))
    asyncio.run(run(store, args.api_url, args.offset, args.concurrency, args.rate))


if __name__ == "__main__":
    main()
