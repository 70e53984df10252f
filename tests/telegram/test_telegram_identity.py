"""Through the pipeline to the Bot API stand-in: a follow-up is a new, notified message;
a further outlet's report of the same event edits the message already sent."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

from tests.conftest import Clock
from tests.pipeline.helpers import make_config, running
from tests.support.botapi import BotApiServer
from tests.support.feedserver import FeedServer, Item, rss
from tracker.alerts.outbox import drain
from tracker.store.repo import Store
from tracker.telegram.sender import TelegramNotifier

CHAT = 700
WATCH = [{"name": "huawei", "events": [], "entities": ["huawei"], "chats": [str(CHAT)]}]


def _item(clock: Clock, key: str, title: str, summary: str) -> Item:
    return Item(title=title, description=summary, link=f"/{key}", guid=key,
                pub_date=format_datetime(clock() - timedelta(minutes=5), usegmt=True))


async def test_a_follow_up_is_a_new_message_and_another_outlet_an_edit(
    api: BotApiServer, store: Store, notifier: TelegramNotifier, clock: Clock,
    sqlite_url: str,
) -> None:
    """Plan → one message; a second outlet → the same message edited ("two outlets"); the
    same outlet again → no edit; production starting → a second, notified message."""
    feeds = {o: [] for o in ("/a.xml", "/b.xml")}  # type: dict[str, list[Item]]
    with FeedServer() as srv:
        for path in feeds:
            srv.add(path, rss([]), content_type="application/rss+xml")
        cfg = make_config(sqlite_url, [{"url": srv.url(p), "name": p[1]} for p in feeds],
                          WATCH)

        async def publish(path: str, item: Item) -> None:
            feeds[path].append(item)
            srv.set_body(path, rss(feeds[path]))
            await app.pipeline.run_cycle(all_feeds=True)
            await drain(store, notifier, clock, "t")

        async with running(cfg, clock) as (app, _):
            await app.pipeline.run_cycle(all_feeds=True)
            clock.advance(minutes=30)
            await publish("/a.xml", _item(clock, "a1", "هواوي تعتزم بدء الإنتاج الضخم لرقائق "
                                          "أسيند 910C", "تخطط هواوي لبدء الإنتاج الضخم لرقائق "
                                          "أسيند 910C في مصانعها المحلية."))
            assert len(api.sent(CHAT)) == 1
            clock.advance(minutes=40)
            await publish("/b.xml", _item(clock, "b1", "هواوي تستعد للإنتاج بكميات كبيرة لمعالج "
                                          "910C", "تستعد هواوي لإنتاج رقائق 910C بكميات كبيرة."))
            (first,) = api.sent(CHAT)
            assert len(first.edits) == 1 and "أوردته وسيلتا إعلام" in first.edits[-1]
            clock.advance(minutes=40)
            await publish("/a.xml", _item(clock, "a2", "خطة هواوي لإنتاج رقائق أسيند 910C بكميات "
                                          "كبيرة", "تعتزم هواوي بدء الإنتاج الضخم لرقائق أسيند "
                                          "910C."))
            (first,) = api.sent(CHAT)
            assert len(first.edits) == 1  # the same outlet again: still two outlets
            clock.advance(days=1)
            await publish("/b.xml", _item(clock, "b2", "هواوي تبدأ الإنتاج الضخم لرقائق أسيند "
                                          "910C", "بدأت هواوي الإنتاج الضخم لرقائق أسيند 910C."))
    sent = api.sent(CHAT)
    assert len(sent) == 2 and sent[1].message_id != sent[0].message_id
    calls = api.calls_of("sendMessage")
    assert len(calls) == 2 and not calls[1].get("disable_notification")
