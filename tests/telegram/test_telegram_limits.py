"""Telegram's limits against the Bot API stand-in, on the wall clock: flood waits per chat
and for the whole bot, per-chat spacing across several senders on one database, and a
success answer that cannot be read."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import Clock, migrated_store
from tests.support.botapi import BotApiServer
from tests.telegram.helpers import (
    TOKEN,
    FakeLabels,
    drain_all,
    drain_until_done,
    enqueue,
    make_event,
    queue,
    settings_for,
    wall,
)
from tracker.alerts.outbox import FloodHolds, drain
from tracker.store.botport import StoreForBot
from tracker.store.repo import Store
from tracker.store.subscribers import failed_messages, outbox_states
from tracker.store.tables import OutboxRow
from tracker.telegram.sender import TelegramNotifier, make_bot


async def test_a_flood_wait_on_one_chat_holds_that_chat_while_others_keep_flowing(
    api: BotApiServer, store: Store, labels: FakeLabels
) -> None:
    """After a 429 with retry_after=2 on a chat nothing more goes to it for 2 s, whichever
    row is next; the other chats are served meanwhile, and every alert arrives in order."""
    queue(store, {1: 4, 2: 4, 3: 4})
    api.flood(2, chat_id=1)
    bot = make_bot(TOKEN, settings_for(api))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), labels, per_chat_interval=0.25)
        await drain_until_done(store, notifier)
    assert api.violations == []
    flood = api.floods[0]
    assert flood.began is not None
    first_to_1 = api.sent(1)[0].at
    assert first_to_1 >= flood.began + 2.0
    assert [re.findall(r"رقم \u2066(\d)", t) for t in api.texts(1)] == [["0"], ["1"], ["2"],
                                                                         ["3"]]
    for other in (2, 3):
        assert len(api.sent(other)) == 4
        assert api.sent(other)[-1].at < flood.began + 2.0  # they did not wait for chat 1
    assert outbox_states(store) == {"alert/sent": 12}


async def test_a_bot_wide_flood_wait_holds_every_chat(
    api: BotApiServer, store: Store, labels: FakeLabels
) -> None:
    """A flood wait on every chat stops all sending until it has passed (beyond the calls
    already in flight), then everything is delivered once."""
    queue(store, {c: 2 for c in range(10, 16)})
    api.flood(2)
    bot = make_bot(TOKEN, settings_for(api))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), labels, per_chat_interval=0.1)
        await drain_until_done(store, notifier)
    assert api.violations == []
    began = api.floods[0].began
    assert began is not None
    assert all(s.at >= began + 2.0 for c in range(10, 16) for s in api.sent(c))
    assert {c: len(api.sent(c)) for c in range(10, 16)} == {c: 2 for c in range(10, 16)}


@pytest.mark.parametrize("kind", ["garbled", "notamessage"])
async def test_an_unreadable_success_is_recorded_unconfirmed_and_never_resent(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock, kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 200 whose body is not a Message marks the row delivered-unconfirmed, tells the
    operator (an error log line, /stats) and sends nothing again."""
    enqueue(store, clock, make_event(store, clock), [20, 21])
    api.fault(kind, chat_id=20, methods=("sendMessage",))
    with caplog.at_level(logging.ERROR):
        report = await drain_all(store, notifier, clock)
    clock.advance(hours=5)
    again = await drain(store, notifier, clock, "t")
    assert report.sent == 2 and report.unconfirmed == 1 and again.sent == 0
    assert len(api.sent(20)) == 1 and len(api.sent(21)) == 1
    assert outbox_states(store) == {"alert/sent": 2}
    assert [r for r in caplog.records if r.getMessage() == "delivery_unconfirmed"]
    with store.tx() as tx:
        row = tx.session.exec(select(OutboxRow).where(OutboxRow.chat_id == "20")).one()
        assert (row.last_error or "").startswith("delivered-unconfirmed")
    assert failed_messages(store) == []
    assert ("outbox delivered_unconfirmed", "1") in StoreForBot(store).stats()


def test_flood_waits_on_two_chats_at_once_become_one_for_the_bot(clock: Clock) -> None:
    """Two chats refused within a second: the bot as a whole is held; one chat alone is not."""
    holds = FloodHolds()
    now = clock()
    assert holds.add("1", "chat", now, now + timedelta(seconds=3)) == "1"
    assert holds.held("2", now) is None and holds.held("1", now) == now + timedelta(seconds=3)
    assert holds.add("2", "chat", now, now + timedelta(seconds=2)) == "*"
    assert holds.held("3", now) == now + timedelta(seconds=2)
    later = now + timedelta(seconds=10)
    assert holds.held("1", later) is None
    assert holds.add("4", "chat", later, later + timedelta(seconds=1)) == "4"


@pytest.fixture
def cluster_stores(database_url: str) -> Iterator[list[Store]]:
    """Three stores (three engines, no shared state) on one database, like three processes."""
    gens = [migrated_store(database_url) for _ in range(3)]
    stores = [next(g) for g in gens]
    yield stores
    for g in gens:
        next(g, None)  # runs the disposal after the yield


async def test_per_chat_spacing_holds_across_three_senders_on_one_database(
    api: BotApiServer, cluster_stores: list[Store], labels: FakeLabels
) -> None:
    """Three senders draining one outbox at once never send to one chat closer than the
    per-chat interval; every alert arrives once."""
    interval = 0.4
    queue(cluster_stores[0], {c: 4 for c in range(30, 34)})
    bots = [make_bot(TOKEN, settings_for(api)) for _ in cluster_stores]
    for bot in bots:
        await bot.initialize()
    try:
        notifiers = [TelegramNotifier(b, StoreForBot(s), labels, per_chat_interval=interval)
                     for b, s in zip(bots, cluster_stores, strict=True)]
        await asyncio.gather(*(drain_until_done(s, n, owner=f"p{i}")
                               for i, (s, n) in enumerate(zip(cluster_stores, notifiers,
                                                              strict=True))))
    finally:
        for bot in bots:
            await bot.shutdown()
    for chat in range(30, 34):
        times = [s.at for s in api.sent(chat)]
        assert len(times) == 4
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= interval - 0.01, gaps
    assert outbox_states(cluster_stores[0]) == {"alert/sent": 16}


async def test_a_storm_of_flood_waits_burns_no_attempts(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """Ten 429s in a row on a chat, then a 500: the waits Telegram asked for are not failed
    attempts, so the 500 is retried (not given up after max_attempts) and the alert arrives
    once, its row counting two attempts (the 500 and the send)."""
    enqueue(store, clock, make_event(store, clock), [60])
    api.fault("429", chat_id=60, times=10, retry_after=1)
    api.fault("500", chat_id=60, times=1)
    report = await drain_all(store, notifier, clock)
    assert report.failed == 0 and len(api.sent(60)) == 1
    assert outbox_states(store) == {"alert/sent": 1}
    with store.tx() as tx:
        row = tx.session.exec(select(OutboxRow).where(OutboxRow.chat_id == "60")).one()
        assert row.attempts == 2


async def test_a_flood_wait_met_by_one_sender_holds_the_others(
    api: BotApiServer, cluster_stores: list[Store], labels: FakeLabels
) -> None:
    """Sender A gets a 429 (retry_after=2) on a chat; sender B, another engine with nothing
    in memory from A, is handed new alerts for that chat: it sends none of them before the
    wait has passed (the wait is in the database), and serves another chat meanwhile."""
    first, second = cluster_stores[0], cluster_stores[1]
    queue(first, {80: 1})
    api.flood(2, chat_id=80, grace=0.0)  # any call to 80 during the wait is a violation
    bots = [make_bot(TOKEN, settings_for(api)) for _ in range(2)]
    for bot in bots:
        await bot.initialize()
    try:
        a = TelegramNotifier(bots[0], StoreForBot(first), labels, per_chat_interval=0.1)
        report = await drain(first, a, wall, "a")
        assert report.retried == 1 and api.floods[0].began is not None
        queue(first, {80: 2, 81: 1}, first=1)
        b = TelegramNotifier(bots[1], StoreForBot(second), labels, per_chat_interval=0.1)
        await drain_until_done(second, b, owner="b")
    finally:
        for bot in bots:
            await bot.shutdown()
    assert api.violations == []
    began = api.floods[0].began
    assert all(s.at >= began + 2.0 for s in api.sent(80)) and len(api.sent(80)) == 3
    assert api.sent(81)[0].at < began + 2.0
    assert outbox_states(second) == {"alert/sent": 4}
