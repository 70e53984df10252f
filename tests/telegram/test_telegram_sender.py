"""The Telegram sender against the Bot API stand-in, with the real PTB client."""

from __future__ import annotations

import time

from tests.conftest import Clock
from tests.support.botapi import BotApiServer, parse_html, utf16_len
from tests.telegram.helpers import (
    FakeLabels,
    add_outlet,
    drain_all,
    enqueue,
    make_event,
    settings_for,
)
from tracker.alerts.outbox import drain
from tracker.store.botport import StoreForBot
from tracker.store.repo import OutboxMessage, Store
from tracker.store.subscribers import (
    delivered_counts,
    enqueue_updates,
    failed_messages,
    get_subscriber,
    outbox_states,
    subscribe,
)
from tracker.telegram.sender import TelegramNotifier, build_notifier, make_bot


async def test_alert_arrives_once_as_valid_html_with_an_evidence_button(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """A queued alert is delivered once, parses as Telegram HTML and carries the button."""
    event_id = make_event(store, clock)
    enqueue(store, clock, event_id, [42])
    report = await drain(store, notifier, clock, "t")
    assert report.sent == 1
    [sent] = api.sent(42)
    assert sent.parse_mode == "HTML"
    assert "إطلاق شريحة" in (sent.plain or "")
    assert sent.reply_markup["inline_keyboard"][0][0]["callback_data"] == f"ev:{event_id}"
    assert outbox_states(store) == {"alert/sent": 1}
    assert await drain(store, notifier, clock, "t") == type(report)()  # nothing more is due


async def test_hostile_feed_title_reaches_the_reader_as_text(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """A title with <b>, & and <script> is shown literally and the message still parses."""
    title = 'Nvidia <b>H20</b> & <script>alert("x")</script> تصدير'
    event_id = make_event(store, clock, headline=title, outlet="<i>Outlet</i> & Co",
                          link='https://x.example/?a=1&b="2"')
    enqueue(store, clock, event_id, [7])
    await drain(store, notifier, clock, "t")
    assert api.rejected == []
    [sent] = api.sent(7)
    shown = (sent.plain or "").replace("\u2066", "").replace("\u2069", "")
    assert '<b>H20</b> & <script>alert("x")</script>' in shown
    assert "<i>Outlet</i> & Co" in shown
    assert sent.text is not None and "<script>" not in sent.text


async def test_arabic_alert_isolates_latin_runs(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """Latin names inside Arabic text are wrapped in left-to-right isolates."""
    event_id = make_event(store, clock, headline="إنفيديا تستأنف بيع Nvidia H20 في الصين")
    enqueue(store, clock, event_id, [8])
    await drain(store, notifier, clock, "t")
    assert "\u2066Nvidia H20\u2069" in api.texts(8)[0]


async def test_english_subscriber_gets_english_alert(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """The alert is rendered in the subscriber's language; unknown chats get Arabic."""
    subscribe(store, "9", "en", clock())
    event_id = make_event(store, clock)
    enqueue(store, clock, event_id, [9, 10])
    await drain(store, notifier, clock, "t")
    assert "Chip launch" in api.texts(9)[0]
    assert "إطلاق شريحة" in api.texts(10)[0]


async def test_long_alert_is_split_into_valid_parts(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """An alert over 4096 characters goes out in parts that each parse and fit."""
    headline = "\n\n".join(f"فقرة {i} عن شريحة إنفيديا H20 & <تصدير>" * 8 for i in range(40))
    event_id = make_event(store, clock, headline=headline)
    enqueue(store, clock, event_id, [11])
    await drain(store, notifier, clock, "t")
    sent = api.sent(11)
    assert len(sent) >= 2 and api.rejected == []
    assert all(utf16_len(s.plain or "") <= 4096 for s in sent)
    assert sent[-1].reply_markup is not None and sent[0].reply_markup is None
    whole = "".join(parse_html(s.text or "") for s in sent)
    assert "فقرة \u206639\u2069" in whole
    [row] = [m for c, m in delivered_counts(store).items() if c == "11"]
    assert row == 1


async def test_storms_of_429_and_5xx_deliver_every_alert_exactly_once(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """Under flood control and server errors every queued alert arrives exactly once."""
    events = [make_event(store, clock, headline=f"حدث رقم {i}") for i in range(5)]
    chats = [100 + i for i in range(12)]
    for event_id in events:
        enqueue(store, clock, event_id, chats)
    api.fault("429", times=25, retry_after=3)
    api.fault("500", times=15)
    api.fault("429", chat_id=105, times=4, retry_after=30)
    report = await drain_all(store, notifier, clock)
    assert report.sent == 60
    assert report.retried >= 40
    for chat in chats:
        texts = api.texts(chat)
        assert len(texts) == 5, (chat, len(texts))
        assert len(set(texts)) == 5
    assert outbox_states(store) == {"alert/sent": 60}


async def test_blocked_subscriber_is_deactivated_and_its_rows_fail_without_retries(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """A 403 deactivates the subscriber and fails its rows at once; others are unaffected."""
    subscribe(store, "200", "ar", clock())
    subscribe(store, "201", "ar", clock())
    events = [make_event(store, clock, headline=f"خبر {i}") for i in range(3)]
    for event_id in events:
        enqueue(store, clock, event_id, [200, 201])
    api.fault("403", chat_id=200, times=None)
    report = await drain_all(store, notifier, clock)
    assert report.failed == 3 and report.retried == 0
    sub = get_subscriber(store, "200")
    assert sub is not None and not sub.active
    assert len(api.texts(201)) == 3 and api.texts(200) == []
    calls_to_blocked = [p for p in api.calls_of("sendMessage") if str(p["chat_id"]) == "200"]
    assert len(calls_to_blocked) <= 3
    assert {e for _, c, _, e in failed_messages(store) if c == "200"}


async def test_missing_chat_is_undeliverable_and_bad_html_is_rejected_for_good(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """'chat not found' fails the row and the chat; other 400s fail only the message."""
    event_id = make_event(store, clock)
    enqueue(store, clock, event_id, [300, 301])
    api.fault("400", chat_id=300, times=None)
    report = await drain_all(store, notifier, clock)
    assert report.failed == 1 and report.sent == 1
    assert outbox_states(store) == {"alert/failed": 1, "alert/sent": 1}


async def test_new_outlets_edit_the_sent_alert_instead_of_sending_again(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """When more outlets report an event, the alert message is edited in place, once each."""
    event_id = make_event(store, clock)
    enqueue(store, clock, event_id, [400, 401])
    await drain(store, notifier, clock, "t")
    add_outlet(store, clock, event_id, "الجزيرة", "https://aj.example/1")
    with store.tx() as tx:
        assert enqueue_updates(tx, event_id, clock()) == 2
    with store.tx() as tx:
        assert enqueue_updates(tx, event_id, clock()) == 0  # already queued
    await drain(store, notifier, clock, "t")
    for chat in (400, 401):
        [sent] = api.sent(chat)
        assert len(sent.edits) == 1
        assert "الجزيرة" in (sent.plain or "")
        assert "أوردته وسيلتا إعلام" in (sent.plain or "")  # the Arabic dual
    with store.tx() as tx:
        assert enqueue_updates(tx, event_id, clock()) == 0  # messages show every source
    add_outlet(store, clock, event_id, "سكاي نيوز", "https://sky.example/1")
    with store.tx() as tx:
        assert enqueue_updates(tx, event_id, clock()) == 2  # re-armed
    await drain(store, notifier, clock, "t")
    assert len(api.sent(400)[0].edits) == 2 and len(api.sent(400)) == 1
    assert outbox_states(store) == {"alert/sent": 2, "update/sent": 2}


def test_labels_fixture_is_bilingual(labels: FakeLabels) -> None:
    """The fake labels answer in both languages (guards the tests above)."""
    assert labels.labels("chip_launch", "en") == "Chip launch"
    assert labels.entity_label("nvidia", "ar") == "إنفيديا"


async def test_a_source_added_while_the_alert_is_in_flight_is_edited_in_afterwards(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """If an outlet joins while the alert is being sent, the next drain edits it in."""
    event_id = make_event(store, clock)
    enqueue(store, clock, event_id, [500])

    class JoinMidway:
        async def deliver(self, message: OutboxMessage) -> str | None:
            add_outlet(store, clock, event_id, "الشرق", "https://asharq.example/1")
            with store.tx() as tx:
                enqueue_updates(tx, event_id, clock())  # the alert is not sent yet: no-op
            return await notifier.deliver(message)

    await drain(store, JoinMidway(), clock, "t")
    assert outbox_states(store) == {"alert/sent": 1, "update/pending": 1}
    await drain(store, notifier, clock, "t")
    [sent] = api.sent(500)
    assert "الشرق" in (sent.plain or "") and len(sent.edits) == 1


async def test_build_notifier_reads_the_api_url_from_config(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock
) -> None:
    """The daemon's notifier talks to telegram.api_url and opens/closes its connections."""
    notifier = build_notifier({("telegram", "api_url"): api.base_url + "/bot"},
                              StoreForBot(store), labels,
                              token="123456:TEST-token")
    await notifier.start()
    try:
        enqueue(store, clock, make_event(store, clock), [600])
        assert (await drain(store, notifier, clock, "t")).sent == 1
    finally:
        await notifier.close()
    assert len(api.texts(600)) == 1 and api.calls_of("getMe")


async def test_operator_notices_are_sent_as_plain_text(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock
) -> None:
    """A feed-health notice with <, > and & reaches the operator exactly as written."""
    text = "feed became failing: Outlet <https://a.example/rss?x=1&y=2> — http_503"
    with store.tx() as tx:
        tx.enqueue_notice("700", text, clock())
    assert (await drain(store, notifier, clock, "t")).sent == 1
    assert api.texts(700) == [text]


async def test_one_chat_gets_at_most_one_message_per_interval(
    api: BotApiServer, store: Store, labels: FakeLabels, clock: Clock
) -> None:
    """Messages to one chat are spaced by the per-chat interval; other chats do not wait."""
    bot = make_bot("123456:TEST-token", settings_for(api))
    async with bot:
        notifier = TelegramNotifier(bot, StoreForBot(store), labels, per_chat_interval=0.2)
        for n in range(3):
            enqueue(store, clock, make_event(store, clock, headline=f"خبر {n}"), [800])
        enqueue(store, clock, make_event(store, clock), [801])
        started = time.monotonic()
        await drain(store, notifier, clock, "t")
        elapsed = time.monotonic() - started
    assert len(api.texts(800)) == 3 and len(api.texts(801)) == 1
    assert elapsed >= 0.4
