"""The bot, end to end: the real PTB Application polling the Bot API stand-in."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tests.support.botapi import BotApiServer
from tests.telegram.helpers import (
    ENTITIES,
    TOKEN,
    TYPES,
    FakeLabels,
    button,
    labels_of,
    make_event,
    said,
)
from tracker.alerts.digests import send_digests
from tracker.alerts.match import match_subscribers, subscriber_rules
from tracker.alerts.outbox import drain
from tracker.classify import load_engine
from tracker.model import DetectedEvent, EntityRef
from tracker.store.botport import StoreForBot
from tracker.store.repo import Store
from tracker.store.subscribers import get_subscriber, outbox_states, subscribe
from tracker.telegram.bot import (
    BotSettings,
    build_application,
    label_choices,
    start_bot,
    stop_bot,
)
from tracker.telegram.sender import TelegramNotifier

ADMIN = 999
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def bot_app(api: BotApiServer, store: Store, labels: FakeLabels,
                  clock: Clock) -> AsyncIterator[Any]:
    app = build_application(
        {("telegram", "api_url"): api.base_url + "/bot", ("telegram", "admins"): (str(ADMIN),)},
        StoreForBot(store), labels, clock, token=TOKEN,
        entity_ids_with_labels=[(k, ar, en) for k, (ar, en) in ENTITIES.items()],
        event_types_with_labels=[(k, ar, en) for k, (ar, en) in TYPES.items()],
        settings=BotSettings(poll_timeout=1.0))
    await start_bot(app)
    try:
        yield app
    finally:
        await stop_bot(app)


def pipeline_enqueue(store: Store, clock: Clock, event_id: int, ev: DetectedEvent) -> None:
    """Queue the alert for instant subscribers who want it, as the pipeline does."""
    with store.tx() as tx:
        subs = [(s.chat_id, subscriber_rules(s.events, s.entities, s.pairs), s.muted_until)
                for s in tx.subscriptions() if s.mode == "instant"]
        for chat in match_subscribers(ev, subs, clock()):
            tx.enqueue(event_id, chat, clock())


NVIDIA_LAUNCH = DetectedEvent(type="chip_launch", confidence=0.9,
                              entities=(EntityRef("nvidia", "company", "actor"),),
                              event_date=None, status="reported", recap=False, evidence=())


async def test_a_subscriber_conversation_from_start_to_stop(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock, bot_app: Any
) -> None:
    """Start, watch via the keyboard (edited in place), get an alert and its evidence naming
    the rule that matched, switch to daily and get a digest, stop after confirming — and
    nothing more arrives."""
    chat = 5001
    api.inject_command(chat, "/start")
    assert "أهلاً" in (await said(api, chat, 1))[0]

    api.inject_command(chat, "/watch")
    await said(api, chat, 2)
    menu = button(api, chat, "w:e:0")
    api.inject_callback(chat, menu, "w:e:0")
    await api.until(lambda: bool(api.find(chat, menu) and api.find(chat, menu).edits))  # type: ignore[union-attr]
    api.inject_callback(chat, menu, "w+:e:nvidia:0")
    await api.until(lambda: "✅ إنفيديا" in labels_of(api, chat, menu))
    assert len(api.sent(chat)) == 2  # taps edit the keyboard; nothing new is posted
    sub = get_subscriber(store, str(chat))
    assert sub is not None and sub.entities == {"nvidia"}

    event_id = make_event(store, clock, headline="إنفيديا تطلق شريحة جديدة للصين")
    pipeline_enqueue(store, clock, event_id, NVIDIA_LAUNCH)
    await drain(store, notifier, clock, "t")
    alert = (await said(api, chat, 3))[2]
    assert "إنفيديا تطلق شريحة جديدة للصين" in alert

    api.inject_callback(chat, button(api, chat, f"ev:{event_id}"), f"ev:{event_id}")
    evidence = (await said(api, chat, 4))[3]
    assert "أطلقت إنفيديا شريحة جديدة" in evidence
    assert "طابق قاعدتك: إنفيديا — أي حدث" in evidence

    api.inject_command(chat, "/mode daily")
    await said(api, chat, 5)
    second = make_event(store, clock, headline="إنفيديا تبدأ الإنتاج الضخم")
    pipeline_enqueue(store, clock, second, NVIDIA_LAUNCH)
    assert outbox_states(store) == {"alert/sent": 1}  # daily subscribers get no instant alert
    clock.advance(hours=1)
    assert await send_digests(store, notifier, clock(), "daily") == 1
    assert await send_digests(store, notifier, clock(), "daily") == 0  # once per period
    digest = (await said(api, chat, 6))[5]
    assert "ملخص اليوم" in digest and "إنفيديا تبدأ الإنتاج الضخم" in digest

    api.inject_command(chat, "/stop")
    await said(api, chat, 7)
    assert get_subscriber(store, str(chat)) is not None  # nothing happens before confirming
    confirm = button(api, chat, "stop:yes")
    api.inject_callback(chat, confirm, "stop:yes")
    await api.until(lambda: get_subscriber(store, str(chat)) is None)
    await api.until(lambda: "حذف بياناتك" in (api.find(chat, confirm).plain or ""))  # type: ignore[union-attr]
    third = make_event(store, clock, headline="إنفيديا مرة أخرى")
    pipeline_enqueue(store, clock, third, NVIDIA_LAUNCH)
    clock.advance(days=1)
    await send_digests(store, notifier, clock(), "daily")
    await drain(store, notifier, clock, "t")
    assert len(api.sent(chat)) == 7
    assert api.unknown == []


async def test_english_user_gets_english_and_can_switch_language(
    api: BotApiServer, store: Store, bot_app: Any
) -> None:
    """language_code en gives English replies; /lang ar switches to Arabic."""
    api.inject_command(6001, "/start", language_code="en")
    assert "Welcome" in (await said(api, 6001, 1))[0]
    api.inject_command(6001, "/lang ar", language_code="en")
    await said(api, 6001, 2)
    api.inject_command(6001, "/help", language_code="en")
    assert "الأوامر" in (await said(api, 6001, 3))[2]


async def test_typed_watch_in_arabic_and_english_list_and_unwatch(
    api: BotApiServer, store: Store, bot_app: Any
) -> None:
    """Names typed in either language (any alef form) become watch rules — each its own
    line in /list, "any" spelt out — and the /unwatch keyboard removes them in place."""
    chat = 6002
    api.inject_command(chat, "/start")
    await said(api, chat, 1)
    api.inject_command(chat, "/watch انفيديا")
    assert "✅" in (await said(api, chat, 2))[1]
    api.inject_command(chat, "/watch Chip launch")
    await said(api, chat, 3)
    api.inject_command(chat, "/watch شيء مجهول")
    assert "لم أتعرّف" in (await said(api, chat, 4))[3]
    api.inject_command(chat, "/watch هواوي إنتاج ضخم")
    assert "هواوي — إنتاج ضخم" in (await said(api, chat, 5))[4]
    sub = get_subscriber(store, str(chat))
    assert sub is not None and sub.rules == {("nvidia", None), (None, "chip_launch"),
                                             ("huawei", "mass_production")}
    api.inject_command(chat, "/list")
    listing = (await said(api, chat, 6))[5].splitlines()
    assert "• إنفيديا — أي حدث" in listing
    assert "• أي جهة — إطلاق شريحة" in listing
    assert "• هواوي — إنتاج ضخم" in listing
    api.inject_command(chat, "/unwatch")
    await said(api, chat, 7)
    keyboard = button(api, chat, "u-:e:nvidia")
    api.inject_callback(chat, keyboard, "u-:e:nvidia")
    await api.until(lambda: not any("إنفيديا" in t for t in labels_of(api, chat, keyboard)))
    assert len(api.sent(chat)) == 7
    sub = get_subscriber(store, str(chat))
    assert sub is not None and sub.entities == frozenset()


async def test_mute_timeline_and_mode_validation(
    api: BotApiServer, store: Store, clock: Clock, bot_app: Any
) -> None:
    """/mute sets an end time, /timeline lists events, bad arguments get usage help."""
    chat = 6003
    api.inject_command(chat, "/start")
    await said(api, chat, 1)
    api.inject_command(chat, "/mute 2h")
    await said(api, chat, 2)
    sub = get_subscriber(store, str(chat))
    assert sub is not None and sub.muted_until == clock() + timedelta(hours=2)
    api.inject_command(chat, "/mode hourly")
    assert "/mode" in (await said(api, chat, 3))[2]
    make_event(store, clock, headline="هواوي تشحن Ascend 910C", entities=("huawei",))
    make_event(store, clock, headline="إنفيديا H20")
    api.inject_command(chat, "/timeline هواوي")
    timeline = (await said(api, chat, 4))[3]
    assert "Ascend 910C" in timeline and "H20" not in timeline


async def test_admin_commands_answer_only_operators(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock, bot_app: Any
) -> None:
    """/stats, /feeds and /broadcast work for admins and are refused to others; a broadcast
    goes through the outbox."""
    subscribe(store, "7001", "ar", clock())
    api.inject_command(7001, "/stats")
    assert "للمشرفين" in (await said(api, 7001, 1))[0]
    api.inject_command(ADMIN, "/stats", language_code="en")
    assert "outbox" in (await said(api, ADMIN, 1))[0] or "subscribers" in api.texts(ADMIN)[0]
    make_event(store, clock)
    api.inject_command(ADMIN, "/feeds", language_code="en")
    assert "failures" in (await said(api, ADMIN, 2))[1]
    api.inject_command(ADMIN, "/broadcast صيانة <الليلة> & غداً", language_code="en")
    assert "Queued for 1" in (await said(api, ADMIN, 3))[2]
    await drain(store, notifier, clock, "t")
    assert "صيانة <الليلة> & غداً" in (await said(api, 7001, 2))[1]
    assert outbox_states(store) == {"notice/sent": 1}


async def test_group_chat_commands_work(api: BotApiServer, store: Store, bot_app: Any) -> None:
    """A group can subscribe with /start@bot like a person."""
    api.inject_command(-100123, "/start@tracker_bot", chat_type="supergroup", user_id=55)
    await said(api, -100123, 1)
    assert get_subscriber(store, "-100123") is not None


async def test_evidence_in_a_channel_is_a_pop_up_not_a_post(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock, bot_app: Any
) -> None:
    """Pressing the evidence button under a channel alert answers the presser only."""
    channel = -1009999
    event_id = make_event(store, clock)
    with store.tx() as tx:
        tx.enqueue(event_id, str(channel), clock(), watchlist="desk")
    await drain(store, notifier, clock, "t")
    api.inject_callback(channel, button(api, channel, f"ev:{event_id}"), f"ev:{event_id}",
                        chat_type="channel")
    await api.until(lambda: bool(api.calls_of("answerCallbackQuery")))
    [answer] = api.calls_of("answerCallbackQuery")
    assert "أطلقت شريحة" in answer["text"] and answer["show_alert"] in (True, "true")
    assert len(api.sent(channel)) == 1


async def test_the_shipped_gazetteer_and_taxonomy_drive_keyboards_and_typed_names(
    api: BotApiServer, store: Store, clock: Clock
) -> None:
    """With the real engine's labels, every keyboard page is valid and typed names resolve."""
    engine = load_engine(REPO / "config/taxonomy.toml", REPO / "config/entities.toml")
    entities = label_choices(engine, engine.entity_kinds(), "entity")
    types = label_choices(engine, engine.event_types(), "event")
    app = build_application(
        {("telegram", "api_url"): api.base_url + "/bot"}, StoreForBot(store), engine, clock,
        token=TOKEN, entity_ids_with_labels=entities, event_types_with_labels=types,
        settings=BotSettings(poll_timeout=1.0, set_commands=False))
    await start_bot(app)
    try:
        chat = 8001
        api.inject_command(chat, "/start")
        await said(api, chat, 1)
        api.inject_command(chat, "/watch انفيديا")
        await said(api, chat, 2)
        api.inject_command(chat, "/watch Export permit")
        await said(api, chat, 3)
        sub = get_subscriber(store, str(chat))
        assert sub is not None and sub.entities == {"nvidia"}
        assert "export_permit" in sub.events
        api.inject_command(chat, "/watch")
        await said(api, chat, 4)
        keyboard = api.sent(chat)[-1].message_id
        page, seen = 0, 0
        while True:  # walk every page of the entity keyboard, in place
            data = f"w:e:{page}"
            edits = len(api.find(chat, keyboard).edits)  # type: ignore[union-attr]
            api.inject_callback(chat, keyboard, data)
            await api.until(lambda e=edits: len(api.find(chat, keyboard).edits) > e)  # type: ignore[union-attr,misc]
            rows = api.find(chat, keyboard).reply_markup["inline_keyboard"]  # type: ignore[union-attr]
            picks = [b for row in rows for b in row if b["callback_data"].startswith("w+:")]
            assert all(len(b["callback_data"].encode()) <= 64 for b in picks)
            seen += len(picks)
            if not any(b["callback_data"] == f"w:e:{page + 1}" for row in rows for b in row):
                break
            page += 1
        assert seen == len(entities)
        assert len(api.sent(chat)) == 4
    finally:
        await stop_bot(app)


async def test_webhook_mode_registers_the_webhook_and_answers_posted_updates(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock
) -> None:
    """In webhook mode the bot registers its URL with the Bot API and handles an update
    POSTed to its own server (with the secret token), answering through the Bot API."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = build_application(
        {("telegram", "api_url"): api.base_url + "/bot"}, StoreForBot(store), labels, clock,
        token=TOKEN,
        entity_ids_with_labels=[(k, ar, en) for k, (ar, en) in ENTITIES.items()],
        event_types_with_labels=[(k, ar, en) for k, (ar, en) in TYPES.items()],
        settings=BotSettings(webhook_url="https://bot.example", webhook_listen="127.0.0.1",
                             webhook_port=port, webhook_secret="s3cret"))
    await start_bot(app)
    try:
        (registered,) = api.calls_of("setWebhook")
        assert registered["url"] == "https://bot.example/telegram"
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": 0, "chat": {"id": 4242, "type": "private"},
            "from": {"id": 4242, "is_bot": False, "first_name": "R", "language_code": "ar"},
            "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        async with httpx.AsyncClient() as client:
            wrong = await client.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
            assert wrong.status_code == 403
            ok = await client.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
            assert ok.status_code == 200
        await said(api, 4242, 1)
        assert get_subscriber(store, "4242") is not None
    finally:
        await stop_bot(app)
