"""A subscriber talking to the bot the way a new user would, against the Bot API stand-in:
deep links, keyboards edited in place with ✅, /mode and /lang buttons, mute bounds,
unknown input, /stop confirmation, local times, quiet low-priority alerts, the timeline with
links, and the feedback buttons under alerts."""

from __future__ import annotations

import ast
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.support.botapi import BotApiServer
from tests.telegram.helpers import (
    ENTITIES,
    TOKEN,
    TYPES,
    FakeLabels,
    add_outlet,
    button,
    enqueue,
    labels_of,
    make_event,
    said,
    settings_for,
)
from tracker.alerts.outbox import drain
from tracker.store.botport import StoreForBot
from tracker.store.repo import Store
from tracker.store.subscribers import get_subscriber, subscribe, update_subscriber
from tracker.store.tables import LabelRow
from tracker.telegram.bot import BotSettings, build_application, start_bot, stop_bot
from tracker.telegram.sender import TelegramNotifier, make_bot

ADMIN = 999
RIYADH = {("scheduler", "timezone"): "Asia/Riyadh"}


async def _app(api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock,
               **config: Any) -> Any:
    values = {("telegram", "api_url"): api.base_url + "/bot",
              ("telegram", "admins"): (str(ADMIN),), **RIYADH, **config}
    app = build_application(
        values, StoreForBot(store), labels, clock, token=TOKEN,
        entity_ids_with_labels=[(k, ar, en) for k, (ar, en) in ENTITIES.items()],
        event_types_with_labels=[(k, ar, en) for k, (ar, en) in TYPES.items()],
        settings=BotSettings(poll_timeout=1.0))
    await start_bot(app)
    return app


@pytest.fixture
async def bot(api: BotApiServer, store: Store, labels: FakeLabels,
              clock: Clock) -> AsyncIterator[Any]:
    app = await _app(api, store, labels, clock)
    try:
        yield app
    finally:
        await stop_bot(app)


async def edited(api: BotApiServer, chat: int, message_id: int, count: int = 1) -> None:
    """Wait until message ``message_id`` has been edited ``count`` times."""
    await api.until(lambda: len(getattr(api.find(chat, message_id), "edits", [])) >= count)


async def test_deep_link_subscribes_and_adds_the_rule(api: BotApiServer, store: Store,
                                                      bot: Any) -> None:
    """/start watch_nvidia (a t.me/bot?start=watch_nvidia link) subscribes and follows."""
    api.inject_command(9101, "/start watch_nvidia", language_code="en")
    reply = (await said(api, 9101, 1))[0]
    assert "Welcome" in reply and "Now following: Nvidia — any event" in reply
    sub = get_subscriber(store, "9101")
    assert sub is not None and sub.rules == {("nvidia", None)} and sub.lang == "en"
    api.inject_command(9102, "/start watch_export_permit")
    assert "أي جهة — تصريح تصدير" in (await said(api, 9102, 1))[0]


async def test_keyboard_toggles_in_place_with_checkmarks_back_and_done(
    api: BotApiServer, store: Store, bot: Any
) -> None:
    """Taps edit one message: ✅ appears and disappears, back returns to the menu, a company
    plus an event type makes one combined rule, done shows the rules; nothing new is posted
    and no tap both toasts and posts."""
    chat = 9201
    api.inject_command(chat, "/start")
    await said(api, chat, 1)
    api.inject_command(chat, "/watch")
    await said(api, chat, 2)
    kb = api.sent(chat)[-1].message_id
    steps = [("w:e:0", lambda: "هواوي" in labels_of(api, chat, kb)),
             ("w+:e:huawei:0", lambda: "✅ هواوي" in labels_of(api, chat, kb)),
             ("w+:e:huawei:0", lambda: "هواوي" in labels_of(api, chat, kb)
              and "✅ هواوي" not in labels_of(api, chat, kb)),
             ("w+:e:huawei:0", lambda: "✅ هواوي" in labels_of(api, chat, kb)),
             ("w:menu", lambda: "جهة مع نوع حدث" in labels_of(api, chat, kb)),
             ("w:p:0", lambda: "إنفيديا" in labels_of(api, chat, kb)),
             ("w:pt:nvidia:0", lambda: "تصريح تصدير" in labels_of(api, chat, kb)),
             ("w+:p:nvidia|export_permit:0",
              lambda: "✅ تصريح تصدير" in labels_of(api, chat, kb)),
             ("w:done", lambda: labels_of(api, chat, kb) == [])]
    for data, holds in steps:
        api.inject_callback(chat, kb, data)
        await api.until(holds)
    text = api.find(chat, kb).plain or ""  # type: ignore[union-attr]
    assert "• هواوي — أي حدث" in text and "• إنفيديا — تصريح تصدير" in text
    assert len(api.sent(chat)) == 2
    sub = get_subscriber(store, str(chat))
    assert sub is not None and sub.rules == {("huawei", None), ("nvidia", "export_permit")}
    toasts = [c for c in api.calls_of("answerCallbackQuery") if c.get("text")]
    assert any("هواوي" in c["text"] for c in toasts)


async def test_mode_and_language_have_buttons(api: BotApiServer, store: Store,
                                             bot: Any) -> None:
    """/mode and /lang without arguments offer buttons marking the current choice; a tap
    changes it and re-renders the same message in place."""
    chat = 9301
    api.inject_command(chat, "/start")
    await said(api, chat, 1)
    api.inject_command(chat, "/mode")
    await said(api, chat, 2)
    modes = api.sent(chat)[-1].message_id
    assert "✅ تنبيه فوري" in labels_of(api, chat, modes)
    api.inject_callback(chat, modes, "m:weekly")
    await api.until(lambda: "✅ ملخص أسبوعي" in labels_of(api, chat, modes))
    api.inject_command(chat, "/lang")
    await said(api, chat, 3)
    langs = api.sent(chat)[-1].message_id
    assert labels_of(api, chat, langs) == ["✅ العربية", "English"]
    api.inject_callback(chat, langs, "l:en")
    await api.until(lambda: labels_of(api, chat, langs) == ["العربية", "✅ English"])
    assert "Language: English" in (api.find(chat, langs).plain or "")  # type: ignore[union-attr]
    sub = get_subscriber(store, str(chat))
    assert sub is not None and sub.mode == "weekly" and sub.lang == "en"
    assert len(api.sent(chat)) == 3


async def test_mute_is_bounded_and_shown_in_the_local_time_zone(
    api: BotApiServer, store: Store, clock: Clock, bot: Any
) -> None:
    """An absurd /mute gets a clear answer (not silence); a good one is shown in
    Asia/Riyadh time, in the reply and in /list; the mute buttons work in place."""
    chat = 9401
    api.inject_command(chat, "/start")
    await said(api, chat, 1)
    api.inject_command(chat, "/mute 99999999w")
    assert "365" in (await said(api, chat, 2))[1]
    api.inject_command(chat, "/mute 999999999999999999999d")
    assert "/mute" in (await said(api, chat, 3))[2]
    api.inject_command(chat, "/mute 2h")
    reply = (await said(api, chat, 4))[3]
    local = (clock() + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")  # UTC+3, +2 h
    assert f"{local} Asia/Riyadh" in reply
    api.inject_command(chat, "/list")
    assert f"{local} Asia/Riyadh" in (await said(api, chat, 5))[4]
    api.inject_command(chat, "/mute")
    await said(api, chat, 6)
    pick = api.sent(chat)[-1].message_id
    api.inject_callback(chat, pick, "mu:off")
    await edited(api, chat, pick)
    sub = get_subscriber(store, str(chat))
    assert sub is not None and sub.muted_until is None


async def test_unknown_commands_and_plain_text_get_an_answer(api: BotApiServer,
                                                             bot: Any) -> None:
    """Neither an unknown command nor plain text in a private chat meets silence; a group's
    chatter is left alone."""
    api.inject_command(9501, "/frobnicate now", language_code="en")
    assert "/frobnicate" in (await said(api, 9501, 1))[0]
    api.inject_command(9501, "hello bot", language_code="en")
    assert "/help" in (await said(api, 9501, 2))[1]
    api.inject_command(-100777, "just chatting", chat_type="supergroup", user_id=5)
    api.inject_command(-100777, "/help@tracker_bot", chat_type="supergroup", user_id=5)
    texts = await said(api, -100777, 1)
    assert len(texts) == 1 and "/watch" in texts[0]


async def test_stop_asks_first_and_can_be_cancelled(api: BotApiServer, store: Store,
                                                    bot: Any) -> None:
    """/stop deletes nothing until confirmed; "no" keeps the subscription."""
    chat = 9601
    api.inject_command(chat, "/start")
    await said(api, chat, 1)
    api.inject_command(chat, "/stop")
    await said(api, chat, 2)
    ask = button(api, chat, "stop:no")
    api.inject_callback(chat, ask, "stop:no")
    await edited(api, chat, ask)
    assert get_subscriber(store, str(chat)) is not None
    assert labels_of(api, chat, ask) == []


async def test_timeline_links_headlines_and_counts_outlets(
    api: BotApiServer, store: Store, clock: Clock, bot: Any
) -> None:
    """/timeline links each headline to its first source and says how many outlets."""
    event_id = make_event(store, clock, headline="هواوي تشحن Ascend 910C",
                          entities=("huawei",), link="https://a.example/910c")
    add_outlet(store, clock, event_id, "الجزيرة", "https://b.example/910c")
    api.inject_command(9701, "/timeline Huawei", language_code="en")
    await said(api, 9701, 1)
    sent = api.sent(9701)[0]
    assert '<a href="https://a.example/910c">' in (sent.text or "")
    assert "(2 outlets)" in (sent.plain or "")


async def test_bot_description_is_set_and_a_failed_menu_does_not_block_start(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """setMyDescription/ShortDescription are sent in both languages; when setMyCommands
    fails the bot starts anyway and answers, and says so in one log line, no traceback."""
    api.fault("500", methods=("setMyCommands",), times=None)
    with caplog.at_level(logging.WARNING):
        app = await _app(api, store, labels, clock)
        try:
            api.inject_command(9801, "/help", language_code="en")
            assert "Commands" in (await said(api, 9801, 1))[0]
        finally:
            await stop_bot(app)
    failed = [r for r in caplog.records if r.getMessage() == "telegram_menu_failed"]
    assert len(failed) == 1 and failed[0].exc_info is None
    assert "setMyCommands" in failed[0].failed  # type: ignore[attr-defined]
    assert not any(r.exc_info for r in caplog.records)
    assert ("description", "") in api.descriptions and ("short", "en") in api.descriptions
    assert "AI-chip" in api.descriptions[("short", "en")]


async def test_quiet_subscribers_get_rumoured_alerts_without_a_sound(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock
) -> None:
    """With /quiet on, a rumoured alert goes with disable_notification; a reported one and
    other subscribers' alerts ring as usual; the headline links to its first source."""
    subscribe(store, "9901", "ar", clock())
    subscribe(store, "9902", "ar", clock())
    update_subscriber(store, "9901", quiet_low=True)
    rumour = make_event(store, clock, headline="شائعة عن شريحة", link="https://r.example/1")
    with store.tx() as tx:
        from tracker.store.tables import EventRow
        row = tx.session.get(EventRow, rumour)
        assert row is not None
        row.status = "rumoured"
        tx.session.add(row)
    news = make_event(store, clock, headline="خبر مؤكد")
    enqueue(store, clock, rumour, ["9901", "9902"])
    enqueue(store, clock, news, ["9901"])
    bot = make_bot(TOKEN, settings_for(api))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), labels, per_chat_interval=0)
        await drain(store, notifier, clock, "t")
    calls = {(str(c["chat_id"]), "شائعة" in c["text"]): c.get("disable_notification")
             for c in api.calls_of("sendMessage")}
    assert calls[("9901", True)] in (True, "true")
    assert calls[("9902", True)] in (None, False, "false")
    assert calls[("9901", False)] in (None, False, "false")
    first = next(c for c in api.calls_of("sendMessage") if "شائعة" in c["text"])
    assert '<a href="https://r.example/1">' in first["text"]


async def test_feedback_buttons_for_admins_store_verdicts(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock, bot: Any
) -> None:
    """An admin's alert carries 👍 / 👎 / another type…; "another type" swaps the keyboard
    in place for the types, a pick stores the verdict and restores the buttons; a plain
    subscriber gets only the evidence button."""
    subscribe(store, str(ADMIN), "ar", clock())
    subscribe(store, "9903", "ar", clock())
    event_id = make_event(store, clock)
    enqueue(store, clock, event_id, [ADMIN, 9903])
    sender = make_bot(TOKEN, settings_for(api))
    async with sender:
        notifier = TelegramNotifier(sender, StoreForBot(store), labels, per_chat_interval=0,
                                    admins=(str(ADMIN),))
        await drain(store, notifier, clock, "t")
    assert labels_of(api, 9903, api.sent(9903)[0].message_id) == ["🔎 الدليل"]
    alert = api.sent(ADMIN)[0].message_id
    assert "👎 ليس حدثًا" in labels_of(api, ADMIN, alert)
    api.inject_callback(ADMIN, alert, f"fb:no:{event_id}")
    api.inject_callback(ADMIN, alert, f"fb:ty:{event_id}")
    await api.until(lambda: "إنتاج ضخم" in labels_of(api, ADMIN, alert))
    api.inject_callback(ADMIN, alert, f"fb:set:{event_id}:mass_production")
    await api.until(lambda: "👍" in labels_of(api, ADMIN, alert))
    with store.tx() as tx:
        from sqlmodel import select
        verdicts = sorted(r.verdict for r in tx.session.exec(select(LabelRow)).all())
    assert verdicts == ["not_event", "other_type"]
    api.inject_callback(9903, api.sent(9903)[0].message_id, f"fb:ok:{event_id}")
    await api.until(lambda: any(c.get("show_alert") for c in
                                api.calls_of("answerCallbackQuery")))
    assert len(api.sent(ADMIN)) == 1  # everything happened in place


def test_the_telegram_edge_does_not_import_the_store() -> None:
    """No module of tracker/telegram imports tracker.store (it gets Protocols instead)."""
    root = Path(__file__).resolve().parents[2] / "tracker" / "telegram"
    offenders = []
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("tracker.store")]
    assert offenders == []


async def test_alert_dates_are_in_the_configured_zone(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock
) -> None:
    """An event first reported at 22:30 UTC is dated the next day in Asia/Riyadh (UTC+3)."""
    clock.now = clock.now.replace(hour=22, minute=30)
    enqueue(store, clock, make_event(store, clock), [9950])
    sender = make_bot(TOKEN, settings_for(api))
    async with sender:
        notifier = TelegramNotifier(sender, StoreForBot(store), labels, per_chat_interval=0,
                                    timezone="Asia/Riyadh")
        await drain(store, notifier, clock, "t")
    assert "2025-08-30" in api.texts(9950)[0] and "2025-08-29" not in api.texts(9950)[0]
