"""Helpers of the Telegram suite: labels, events created the way the pipeline creates them,
a drain that runs until nothing is due (on a set clock, or on the wall clock as the daemon
does)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Clock
from tests.support.botapi import BotApiServer
from tracker.alerts.outbox import DrainReport, drain
from tracker.config import FeedConfig
from tracker.model import DetectedEvent, EntityRef, FeedEntry
from tracker.store.repo import Store
from tracker.store.subscribers import outbox_states
from tracker.telegram.sender import SenderSettings, TelegramNotifier

TOKEN = "123456:TEST-token"

TYPES = {"chip_launch": ("إطلاق شريحة", "Chip launch"),
         "export_permit": ("تصريح تصدير", "Export permit"),
         "mass_production": ("إنتاج ضخم", "Mass production")}
ENTITIES = {"nvidia": ("إنفيديا", "Nvidia"), "huawei": ("هواوي", "Huawei"),
            "alibaba": ("علي بابا", "Alibaba"), "h20": ("H20", "H20")}


class FakeLabels:
    """Labels of the test taxonomy and gazetteer."""

    def labels(self, type_id: str, lang: str) -> str:
        ar, en = TYPES.get(type_id, (type_id, type_id))
        return en if lang == "en" else ar

    def entity_label(self, entity_id: str, lang: str) -> str:
        ar, en = ENTITIES.get(entity_id, (entity_id, entity_id))
        return en if lang == "en" else ar


def settings_for(api: BotApiServer, **overrides: Any) -> SenderSettings:
    base: dict[str, Any] = {"api_url": api.base_url + "/bot", "overall_per_second": 1000.0,
                            "per_chat_interval": 0.0, "timeout": 5.0}
    base.update(overrides)
    return SenderSettings(**base)


_feed_counter = iter(range(1, 1_000_000))


def make_event(store: Store, clock: Clock, *, headline: str = "إنفيديا تطلق شريحة H20 جديدة",
               type_: str = "chip_launch", entities: Sequence[str] = ("nvidia",),
               outlet: str = "العربية", link: str | None = None,
               sentence: str = "أطلقت إنفيديا شريحة جديدة") -> int:
    """An event with one source, stored through Tx.create_event/add_source like the pipeline."""
    n = next(_feed_counter)
    url = f"https://feed{n}.example/rss"
    store.sync_feeds([FeedConfig(url=url, name=outlet, interval=timedelta(minutes=15))],
                     clock())
    feed_id = next(f.id for f in store.feeds() if f.url == url)
    ev = DetectedEvent(type=type_, confidence=0.9,
                       entities=tuple(EntityRef(e, "company", "actor") for e in entities),
                       event_date=None, status="reported", recap=False,
                       evidence=("أطلقت شريحة",), sentence=sentence)
    with store.tx() as tx:
        items, _ = tx.insert_items(feed_id, outlet, [FeedEntry(
            key=f"guid:{n}", guid=str(n), link=link or f"https://news.example/{n}?x=1&y=2",
            title=headline, summary="", content="",
            published=clock(), date_status="ok")], clock())
        event_id = tx.create_event(ev, headline=headline, sort_date=clock(), now=clock(),
                                   outlet=outlet)
        tx.add_source(event_id, items[0], ev, clock())
    return event_id


def add_outlet(store: Store, clock: Clock, event_id: int, outlet: str, link: str) -> None:
    """Another outlet reports the event (a new item attached as a source)."""
    n = next(_feed_counter)
    url = f"https://feed{n}.example/rss"
    store.sync_feeds([FeedConfig(url=url, name=outlet, interval=timedelta(minutes=15))],
                     clock())
    feed_id = next(f.id for f in store.feeds() if f.url == url)
    ev = DetectedEvent(type="chip_launch", confidence=0.9,
                       entities=(EntityRef("nvidia", "company", "actor"),), event_date=None,
                       status="reported", recap=False, evidence=("x",), sentence="جملة")
    with store.tx() as tx:
        items, _ = tx.insert_items(feed_id, outlet, [FeedEntry(
            key=f"guid:{n}", guid=str(n), link=link, title=f"خبر {n}", summary="", content="",
            published=clock(), date_status="ok")], clock())
        tx.add_source(event_id, items[0], ev, clock())


def enqueue(store: Store, clock: Clock, event_id: int, chats: Sequence[str | int]) -> None:
    with store.tx() as tx:
        for chat in chats:
            tx.enqueue(event_id, str(chat), clock())


async def drain_all(store: Store, notifier: TelegramNotifier, clock: Clock, *,
                    rounds: int = 40, concurrency: int = 20,
                    step: timedelta = timedelta(hours=2)) -> DrainReport:
    """Drain, move the clock past every retry delay, drain again — until nothing is pending."""
    total = DrainReport()
    for _ in range(rounds):
        report = await drain(store, notifier, clock, "test", batch=50, concurrency=concurrency)
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        total.unconfirmed += report.unconfirmed
        if not any(k.endswith("/pending") for k in outbox_states(store)):
            return total
        clock.now += step
    raise AssertionError(f"outbox still pending: {outbox_states(store)}")


async def said(api: BotApiServer, chat: int, count: int) -> list[str]:
    """Wait until ``chat`` has ``count`` messages; return their visible texts."""
    await api.until(lambda: len(api.sent(chat)) >= count)
    return api.texts(chat)


def button(api: BotApiServer, chat: int, data: str) -> int:
    """The message id of the latest message in ``chat`` with a button carrying ``data``."""
    for sent in reversed(api.sent(chat)):
        rows = (sent.reply_markup or {}).get("inline_keyboard", [])
        if any(b.get("callback_data") == data for row in rows for b in row):
            return sent.message_id
    raise AssertionError(f"no button {data!r} in chat {chat}")


def labels_of(api: BotApiServer, chat: int, message_id: int) -> list[str]:
    """The button labels of a message as the reader sees them now."""
    sent = api.find(chat, message_id)
    rows = (sent.reply_markup or {}).get("inline_keyboard", []) if sent else []
    return [b["text"] for row in rows for b in row]


def wall() -> datetime:
    return datetime.now(UTC)


async def drain_until_done(store: Store, notifier: TelegramNotifier, owner: str = "t",
                           within: float = 15.0) -> DrainReport:
    """Drain on the wall clock, as the daemon does, until nothing is pending."""
    total = DrainReport()
    deadline = time.monotonic() + within
    while any(k.endswith("/pending") for k in outbox_states(store)):
        assert time.monotonic() < deadline, outbox_states(store)
        report = await drain(store, notifier, wall, owner, batch=20, concurrency=10)
        total.sent += report.sent
        total.retried += report.retried
        await asyncio.sleep(0.05)
    return total


def queue(store: Store, chats: dict[int, int], first: int = 0) -> None:
    """``count`` alerts (distinct events, numbered from ``first``) for each chat, oldest
    first."""
    clock = Clock(wall())
    for chat, count in chats.items():
        for n in range(first, first + count):
            enqueue(store, clock, make_event(store, clock, headline=f"خبر {chat} رقم {n}"),
                    [chat])
