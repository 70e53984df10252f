"""Fixtures of the Telegram suite: the Bot API stand-in, a migrated SQLite store, labels and
a notifier whose PTB bot talks to the stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.conftest import migrated_store
from tests.support.botapi import BotApiServer
from tests.telegram.helpers import TOKEN, FakeLabels, settings_for
from tracker.store.botport import StoreForBot
from tracker.store.repo import Store
from tracker.telegram.sender import TelegramNotifier, make_bot


@pytest.fixture
def labels() -> FakeLabels:
    return FakeLabels()


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    yield from migrated_store(sqlite_url)


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    with BotApiServer() as server:
        yield server


@pytest.fixture
async def notifier(api: BotApiServer, store: Store,
                   labels: FakeLabels) -> AsyncIterator[TelegramNotifier]:
    settings = settings_for(api)
    bot = make_bot(TOKEN, settings)
    async with bot:
        yield TelegramNotifier(bot, StoreForBot(store), labels,
                               per_chat_interval=settings.per_chat_interval)
