"""Analysts' corrections in the store: recorded per item or per event, read back with text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import Clock, migrated_store
from tracker.config import FeedConfig
from tracker.errors import StoreError
from tracker.model import DetectedEvent, EntityRef, FeedEntry
from tracker.store.labels import find_item
from tracker.store.repo import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    yield from migrated_store(database_url)


def _item_and_event(store: Store, clock: Clock) -> tuple[int, int]:
    store.sync_feeds([FeedConfig(url="https://a.example/feed", name="منفذ",
                                 interval=timedelta(minutes=15))], clock())
    feed_id = store.feeds()[0].id
    entry = FeedEntry(key="guid:l", guid="l", link="https://a.example/1",
                      title="شركة تطلق شريحة", summary="نص الخبر هنا", content="",
                      published=clock(), date_status="ok")
    ev = DetectedEvent(type="chip_launch", confidence=0.8,
                       entities=(EntityRef("huawei", "company", "actor"),), event_date=None,
                       status="reported", recap=False, evidence=("تطلق",),
                       sentence="شركة تطلق شريحة")
    with store.tx() as tx:
        (item,), _ = tx.insert_items(feed_id, "منفذ", [entry], clock())
        event_id = tx.create_event(ev, headline="عنوان", sort_date=clock(), now=clock(),
                                   outlet="منفذ")
        tx.add_source(event_id, item, ev, clock())
    return item.id, event_id


def test_item_labels_and_event_feedback_read_back(store: Store, clock: Clock) -> None:
    """A whole-item label and a verdict on an event come back with the text they judge."""
    item_id, event_id = _item_and_event(store, clock)
    store.record_item_label(item_id, ["export_permit"], source="cli", chat_id=None, now=clock())
    clock.advance(minutes=1)
    store.record_event_feedback(event_id, "not_event", new_type=None, source="telegram",
                                chat_id="42", now=clock())
    first, second = store.labels()
    assert first.types == ("export_permit",) and first.sentence is None
    assert first.title == "شركة تطلق شريحة" and first.url == "https://a.example/1"
    assert second.types == () and second.sentence == "شركة تطلق شريحة"
    assert second.verdict == "not_event" and second.chat_id == "42"


def test_unknown_references_are_clear_errors(store: Store, clock: Clock) -> None:
    """An unknown item, event or verdict is a StoreError naming it, and nothing is written."""
    item_id, event_id = _item_and_event(store, clock)
    with pytest.raises(StoreError, match="no stored item"):
        store.record_item_label(item_id + 99, [], source="cli", chat_id=None, now=clock())
    with pytest.raises(StoreError, match="no timeline event"):
        store.record_event_feedback(event_id + 99, "confirm", new_type=None, source="web",
                                    chat_id=None, now=clock())
    with pytest.raises(StoreError, match="needs the new type"):
        store.record_event_feedback(event_id, "other_type", new_type=None, source="web",
                                    chat_id=None, now=clock())
    assert store.labels() == []


def test_items_are_found_by_id_or_link(store: Store, clock: Clock) -> None:
    """``tracker label`` names an item by its number or its link."""
    item_id, _ = _item_and_event(store, clock)
    assert find_item(store, str(item_id)) == item_id
    assert find_item(store, "https://a.example/1") == item_id
    with pytest.raises(StoreError):
        find_item(store, "https://nowhere.example/")
