"""The store on real databases: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests.conftest import Clock, migrated_store
from tracker.config import FeedConfig
from tracker.model import DetectedEvent, EntityRef, EventDate, FeedEntry
from tracker.store.db import alembic_config, current_revision, make_engine, upgrade
from tracker.store.repo import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    yield from migrated_store(database_url)


def _entry(key: str, title: str, link: str | None = None) -> FeedEntry:
    return FeedEntry(key=key, guid=None, link=link, title=title, summary="ملخص", content="",
                     published=None, date_status="missing")


def _feed(store: Store, clock: Clock, url: str = "https://a.example/feed") -> int:
    store.sync_feeds([FeedConfig(url=url, name="منفذ", interval=timedelta(minutes=15))],
                     clock())
    return next(f.id for f in store.feeds() if f.url == url)


def test_migrations_build_every_table_and_are_idempotent(database_url: str) -> None:
    """Upgrading an empty database creates every table; upgrading again changes nothing."""
    engine = make_engine(database_url)
    upgrade(engine)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"feed", "item", "event", "event_source", "event_entity", "event_status",
            "subscriber", "watch_rule", "outbox"} <= tables
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert current_revision(engine) == head
    engine.dispose()


def test_items_are_stored_once_per_key(store: Store, clock: Clock) -> None:
    """A re-fetched entry with a known key is not stored again."""
    feed_id = _feed(store, clock)
    entries = [_entry("guid:1", "هواوي تكشف عن شريحة جديدة للذكاء الاصطناعي")]
    with store.tx() as tx:
        first, _ = tx.insert_items(feed_id, "منفذ", entries, clock())
    with store.tx() as tx:
        second, _ = tx.insert_items(feed_id, "منفذ", entries, clock())
    assert len(first) == 1 and second == []
    assert store.counts()["items"] == 1


def test_exact_duplicates_across_feeds_are_kept_but_not_returned(
    store: Store, clock: Clock
) -> None:
    """The same normalised title from another outlet is stored as a duplicate, not as news."""
    a = _feed(store, clock, "https://a.example/feed")
    b = _feed(store, clock, "https://b.example/feed")
    with store.tx() as tx:
        tx.insert_items(a, "أ", [_entry("guid:1", "إنفيديا تحصل على ترخيص لتصدير H20")], clock())
    with store.tx() as tx:
        fresh, dups = tx.insert_items(
            b, "ب", [_entry("guid:9", "انفيديا تحصل على ترخيص لتصدير h20")], clock())
    assert fresh == [] and dups == 1


def test_times_come_back_as_aware_utc(store: Store, clock: Clock) -> None:
    """A stored time reads back as the same aware UTC instant on every backend."""
    feed_id = _feed(store, clock)
    entry = FeedEntry(key="guid:t", guid="t", link=None, title="عنوان تجريبي طويل بما يكفي",
                      summary="", content="", published=clock() - timedelta(hours=3),
                      date_status="ok")
    with store.tx() as tx:
        (item,), _ = tx.insert_items(feed_id, "منفذ", [entry], clock())
    assert item.published == clock() - timedelta(hours=3)
    assert store.feeds()[0].next_poll_at == clock()


def test_transaction_rolls_back_everything_on_error(store: Store, clock: Clock) -> None:
    """An exception inside a transaction leaves no item behind."""
    feed_id = _feed(store, clock)
    with pytest.raises(RuntimeError), store.tx() as tx:
        tx.insert_items(feed_id, "منفذ", [_entry("guid:x", "خبر سيتم التراجع عنه كاملا")],
                        clock())
        raise RuntimeError("crash mid-ingest")
    assert store.counts()["items"] == 0


def test_due_feeds_are_leased_to_one_owner(store: Store, clock: Clock) -> None:
    """A claimed feed is not handed to a second owner until its lease expires."""
    _feed(store, clock)
    lease = timedelta(minutes=5)
    assert len(store.claim_due_feeds("p1", clock(), lease, 10)) == 1
    assert store.claim_due_feeds("p2", clock(), lease, 10) == []
    clock.advance(minutes=6)
    assert len(store.claim_due_feeds("p2", clock(), lease, 10)) == 1


def test_removed_feeds_are_deactivated_and_come_back(store: Store, clock: Clock) -> None:
    """Syncing without a feed deactivates it; syncing with it again reactivates it."""
    _feed(store, clock, "https://a.example/feed")
    store.sync_feeds([], clock())
    assert store.feeds() == []
    _feed(store, clock, "https://a.example/feed")
    assert [f.url for f in store.feeds()] == ["https://a.example/feed"]


def test_outbox_rows_are_unique_per_event_and_chat(store: Store, clock: Clock) -> None:
    """Queuing the same (event, chat) twice keeps one row; a sent row is never claimed again."""
    feed_id = _feed(store, clock)
    ev = DetectedEvent(type="export_permit", confidence=0.9,
                       entities=(EntityRef("nvidia", "company", "target"),),
                       event_date=EventDate("2025-08-28", "day"), status="reported",
                       recap=False, evidence=("منحت ترخيصا",), sentence="جملة")
    with store.tx() as tx:
        (item,), _ = tx.insert_items(feed_id, "منفذ", [_entry("guid:e", "حدث للاختبار هنا")],
                                     clock())
        event_id = tx.create_event(ev, headline="عنوان", sort_date=clock(), now=clock(),
                                   outlet="منفذ")
        tx.add_source(event_id, item, ev, clock())
        assert tx.enqueue(event_id, "chat-1", clock()) is True
        assert tx.enqueue(event_id, "chat-1", clock()) is False
    (msg,) = store.claim_outbox("p1", clock(), timedelta(minutes=1), 10)
    assert msg.event is not None and msg.event.source_count == 1
    store.mark_sent(msg.id, "p1", clock(), "42")
    clock.advance(minutes=5)
    assert store.claim_outbox("p1", clock(), timedelta(minutes=1), 10) == []
    assert store.outbox_counts() == {"sent": 1}
