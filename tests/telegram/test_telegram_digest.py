"""Digests: the pure text, and the job that queues them once per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Clock
from tests.support.botapi import BotApiServer, parse_html
from tests.telegram.helpers import TOKEN, FakeLabels, drain_all, make_event, settings_for
from tracker.alerts.digests import queue_digests
from tracker.alerts.render import SafeLabels
from tracker.model import EventDate, TimelineEvent
from tracker.store.botport import StoreForBot
from tracker.store.repo import Store
from tracker.store.subscribers import (
    add_rule,
    digest_key,
    enqueue_digest,
    subscribe,
    update_subscriber,
)
from tracker.telegram.bot import label_choices
from tracker.telegram.digest import build_digest
from tracker.telegram.handlers import parse_period
from tracker.telegram.sender import TelegramNotifier, make_bot


def _event(i: int, headline: str, sources: int = 1) -> TimelineEvent:
    when = datetime(2025, 8, 20 + i, tzinfo=UTC)
    return TimelineEvent(id=i, type="chip_launch", headline=headline, entities=(),
                         event_date=EventDate(f"2025-08-{20 + i}", "day"), sort_date=when,
                         status="reported", first_seen=when, first_outlet="x",
                         source_count=sources, alerted=True, evidence=())


def test_digest_lists_events_oldest_first_as_valid_html(labels: FakeLabels) -> None:
    """A digest lists each event with its type, date and outlets; feed text stays text."""
    text = build_digest([_event(2, "ثانية <b>&"), _event(1, "أولى Nvidia", sources=3)],
                        labels, "ar", period="weekly")
    shown = parse_html(text)
    assert shown.index("أولى") < shown.index("ثانية")
    assert "ملخص الأسبوع" in shown and "(3 مصادر)" in shown
    assert "ثانية <\u2066b\u2069>&" in shown
    assert "\u2066Nvidia\u2069" in shown


def test_empty_digest_says_so_in_english(labels: FakeLabels) -> None:
    """With no events, the digest says nothing is new, in the reader's language."""
    assert "Nothing new" in build_digest([], labels, "en")


def test_digests_are_queued_once_per_period_for_watchers_only(
    store: Store, clock: Clock
) -> None:
    """Only daily subscribers with matching events get a row, and only once a day."""
    for chat, mode in (("1", "daily"), ("2", "daily"), ("3", "instant"), ("4", "daily")):
        subscribe(store, chat, "ar", clock())
        update_subscriber(store, chat, mode=mode)
    add_rule(store, "1", "entity", "nvidia")
    add_rule(store, "2", "entity", "huawei")  # no huawei event: no digest
    add_rule(store, "3", "entity", "nvidia")  # instant: no digest
    make_event(store, clock)
    clock.advance(hours=1)
    assert queue_digests(store, clock(), "daily") == 1
    assert queue_digests(store, clock(), "daily") == 0
    clock.advance(days=1)
    assert queue_digests(store, clock(), "daily") == 0  # nothing new since yesterday


def test_mute_periods_parse() -> None:
    """/mute accepts minutes, hours, days and weeks; nonsense is refused."""
    assert parse_period("2h") is not None and parse_period("2h").total_seconds() == 7200
    assert parse_period("1d").total_seconds() == 86400  # type: ignore[union-attr]
    assert parse_period("30m").total_seconds() == 1800  # type: ignore[union-attr]
    assert parse_period("abc") is None and parse_period("0h") is None


def test_unknown_types_render_as_their_id_and_choices_are_bilingual(
    labels: FakeLabels,
) -> None:
    """A label lookup that raises shows the id instead; label_choices pairs both languages."""

    class Strict(FakeLabels):
        def labels(self, type_id: str, lang: str) -> str:
            raise KeyError(type_id)

    text = build_digest([_event(1, "x")], SafeLabels(Strict()), "en")
    assert "chip_launch" in text
    assert label_choices(labels, ["nvidia"], "entity") == [("nvidia", "إنفيديا", "Nvidia")]
    assert label_choices(labels, ["chip_launch"], "event")[0][2] == "Chip launch"


async def test_weekly_digest_reaches_a_config_channel_with_the_week_as_html(
    api: BotApiServer, store: Store, clock: Clock, labels: FakeLabels
) -> None:
    """A config watchlist's channel gets the weekly digest text and the week's HTML file."""
    make_event(store, clock, headline="إنفيديا تطلق شريحة H20 جديدة")
    make_event(store, clock, headline="هواوي تكشف معالجا", entities=("huawei",))
    clock.advance(hours=2)
    bot = make_bot(TOKEN, settings_for(api))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), labels, per_chat_interval=0.0,
                                    channels={"@chips": (frozenset(), frozenset({"nvidia"}))},
                                    timezone="Asia/Riyadh")
        assert enqueue_digest(store, "@chips", digest_key("weekly", clock()),
                              clock() - timedelta(days=7), clock(), clock())
        await drain_all(store, notifier, clock)
    sent = api.sent("@chips")
    assert any("ملخص الأسبوع" in parse_html(m.text) for m in sent if m.text)
    (doc,) = [m for m in sent if m.document]
    name, data = doc.document
    assert name.endswith(".html") and data.startswith(b"<!DOCTYPE html>")
    page = data.decode("utf-8")
    assert 'dir="rtl"' in page and "شريحة" in page and "هواوي تكشف" not in page
