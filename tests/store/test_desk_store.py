"""The desk's reads on SQLite and PostgreSQL: search by any spelling, paging, installation id,
weeks with events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import Clock, migrated_store
from tracker.config import FeedConfig
from tracker.model import FeedEntry
from tracker.store.desk import DeskStore
from tracker.store.repo import Store
from tracker.text.search import NameIndex, parse_query

NAMES = NameIndex({"nvidia": ("إنفيديا", "انفيديا", "نفيديا", "Nvidia"),
                   "huawei": ("هواوي", "Huawei")})
TITLES = ["إنفيديا تكشف عن رقائق H20 جديدة", "لإنفيديا خطة لشحن رقائق إلى الصين",
          "Nvidia ships more chips", "هواوي تبدأ الإنتاج الضخم", "أمطار غزيرة على العاصمة"]


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    yield from migrated_store(database_url)


def _items(store: Store, clock: Clock) -> list[int]:
    store.sync_feeds([FeedConfig(url="https://a.example/f", name="a",
                                 interval=timedelta(minutes=15))], clock())
    feed = store.feeds()[0]
    entries = [FeedEntry(key=f"guid:{n}", guid=str(n), link=f"https://a.example/{n}", title=t,
                         summary="", content="", published=clock(), date_status="ok")
               for n, t in enumerate(TITLES)]
    with store.tx() as tx:
        stored, _dupes = tx.insert_items(feed.id, feed.name, entries, clock())
    return [s.id for s in stored]


@pytest.mark.parametrize("query", ["إنفيديا", "انفيديا", "Nvidia", "نفيديا"])
def test_search_finds_every_spelling_and_the_proclitic_form(store: Store, clock: Clock,
                                                             query: str) -> None:
    """Any spelling finds the three Nvidia items (لإنفيديا included), never the others."""
    ids = _items(store, clock)
    desk = DeskStore(store)
    assert desk.refresh_search() == len(TITLES)
    found, more = desk.items(parse_query(query, NAMES), 1, 10)
    assert sorted(i.id for i in found) == sorted(ids[:3]) and not more


def test_search_phrases_and_paging(store: Store, clock: Clock) -> None:
    """"H20" and a two-word phrase narrow the hits; pages follow newest first."""
    ids = _items(store, clock)
    desk = DeskStore(store)
    desk.refresh_search()
    found, _ = desk.items(parse_query("انفيديا H20", NAMES), 1, 10)
    assert [i.id for i in found] == [ids[0]]
    first, more = desk.items(parse_query("Nvidia", NAMES), 1, 2)
    second, more2 = desk.items(parse_query("Nvidia", NAMES), 2, 2)
    assert more and not more2
    assert [i.id for i in first + second] == sorted(ids[:3], reverse=True)
    assert desk.refresh_search() == 0  # nothing new to index


def test_installation_id_is_stable_and_unique_per_database(store: Store) -> None:
    """The id made by the migration is read back the same every time."""
    desk = DeskStore(store)
    first = desk.installation_id()
    assert len(first) == 32 and desk.installation_id() == first
