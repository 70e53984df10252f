"""Timeline reads that placement makes, on real databases: what they return and, on
SQLite, that they go through indexes instead of reading whole tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event as sa_event

from tests.conftest import Clock, migrated_store
from tracker.config import FeedConfig
from tracker.model import DetectedEvent, EntityRef, EventDate, FeedEntry
from tracker.store.candidates import Window, windows_of
from tracker.store.repo import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    yield from migrated_store(database_url)


def _event(type_: str, company: str) -> DetectedEvent:
    return DetectedEvent(type=type_, confidence=0.9,
                         entities=(EntityRef(company, "company", "actor"),),
                         event_date=EventDate("2025-08-28", "day"), status="reported",
                         recap=False, evidence=("دليل",), sentence=f"جملة عن {company}")


def _timeline(store: Store, clock: Clock) -> dict[str, int]:
    """Four events: two nvidia permits (in and out of the window), a huawei permit and an
    nvidia launch, all in August 2025 except the old permit."""
    ids = {}
    with store.tx() as tx:
        for key, type_, company, when in (
                ("permit", "export_permit", "nvidia", clock() - timedelta(days=2)),
                ("old", "export_permit", "nvidia", clock() - timedelta(days=200)),
                ("huawei", "export_permit", "huawei", clock() - timedelta(days=1)),
                ("launch", "chip_launch", "nvidia", clock() - timedelta(days=3))):
            ids[key] = tx.create_event(_event(type_, company), headline="عنوان", sort_date=when,
                                       now=clock(), outlet="منفذ")
    return ids


def test_a_window_returns_its_type_dated_inside_it_and_named_entities(
        store: Store, clock: Clock) -> None:
    """A window with entities returns only events of its type, dated in it, naming one of
    them; without entities every event of the type in the window, newest first."""
    ids = _timeline(store, clock)
    since, until = clock() - timedelta(days=30), clock()
    with store.tx() as tx:
        named = tx.candidates([Window("export_permit", since, until, frozenset({"nvidia"}))])
        every = tx.candidates([Window("export_permit", since, until)])
        both = tx.candidates([Window("export_permit", since, until, frozenset({"nvidia"})),
                              Window("chip_launch", since, until, frozenset({"nvidia"}))])
    assert [e.id for e in named] == [ids["permit"]]
    assert [e.id for e in every] == [ids["huawei"], ids["permit"]]
    assert [e.id for e in both] == [ids["permit"], ids["launch"]]
    assert named[0].sentence == "جملة عن nvidia" and named[0].entities[0].id == "nvidia"


def test_windows_span_each_type_and_drop_entities_for_a_type_an_anonymous_event_asks() -> None:
    """One window per type covering its events' spans; a type that an event naming no
    main entity asks for is read unfiltered (its pool reaches every event of that type)."""
    t0 = datetime(2025, 8, 1)
    d = timedelta(days=1)
    wanted = [(("export_permit", "export_restriction"), t0, t0 + d, {"nvidia"}),
              (("export_permit",), t0 + 5 * d, t0 + 6 * d, {"huawei"})]
    assert windows_of(wanted) == [
        Window("export_permit", t0, t0 + 6 * d, frozenset({"nvidia", "huawei"})),
        Window("export_restriction", t0, t0 + d, frozenset({"nvidia"}))]
    anonymous = windows_of([*wanted, (("export_restriction",), t0, t0 + d, set())])
    assert anonymous == [
        Window("export_permit", t0, t0 + 6 * d, frozenset({"nvidia", "huawei"})),
        Window("export_restriction", t0, t0 + d)]


def test_items_after_returns_only_sources_newer_than_the_mark(store: Store, clock: Clock) -> None:
    """items_after lists the items after ``last_id`` that are a source of some event."""
    store.sync_feeds([FeedConfig(url="https://a.example/feed", name="منفذ",
                                 interval=timedelta(minutes=15))], clock())
    feed_id = store.feeds()[0].id
    entries = [FeedEntry(key=f"guid:{n}", guid=None, link=None, title=f"عنوان رقم {n} هنا",
                         summary="ملخص", content="", published=None, date_status="missing")
               for n in range(3)]
    with store.tx() as tx:
        items, _ = tx.insert_items(feed_id, "منفذ", entries, clock())
        ev = _event("export_permit", "nvidia")
        eid = tx.create_event(ev, headline="عنوان", sort_date=clock(), now=clock(),
                              outlet="منفذ")
        tx.add_source(eid, items[0], ev, clock())
        tx.add_source(eid, items[2], ev, clock())
    since = clock() - timedelta(days=1)
    with store.tx() as tx:
        assert [i for i, _, _ in tx.items_after(0, since)] == [items[0].id, items[2].id]
        assert [i for i, _, _ in tx.items_after(items[0].id, since)] == [items[2].id]
        assert tx.items_after(0, clock() + timedelta(days=1)) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_placement_reads_scan_no_whole_table(store: Store, clock: Clock) -> None:
    """On SQLite the statements that candidate reads and items_after send search indexes:
    their query plans read no table (event, event_entity, event_source, item) end to end."""
    _timeline(store, clock)
    since, until = clock() - timedelta(days=30), clock()
    sent: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object,
               *_: object) -> None:
        if statement.lstrip().startswith("SELECT"):
            sent.append((statement, parameters))

    sa_event.listen(store.engine, "before_cursor_execute", record)
    with store.tx() as tx:
        tx.candidates([Window("export_permit", since, until, frozenset({"nvidia"})),
                       Window("chip_launch", since, until)])
        tx.items_after(0, since)
        tx.items_after(5, since)
    sa_event.remove(store.engine, "before_cursor_execute", record)
    assert len(sent) == 4
    with store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, parameters in sent:
            plan = [row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}",
                                                   parameters)]  # type: ignore[arg-type]
            scans = {step.split()[1] for step in plan if step.startswith("SCAN")}
            assert not scans & {"event", "event_entity", "event_source", "item"}, plan


def test_items_after_cuts_long_summaries_to_what_near_duplicate_matching_reads(
    store: Store, clock: Clock
) -> None:
    """A long summary comes back cut in the database, yet the text near-duplicate matching
    reads (its first TEXT_CHARS characters) is the same as from the whole summary."""
    from tracker import neardup

    store.sync_feeds([FeedConfig(url="https://a.example/feed", name="منفذ",
                                 interval=timedelta(minutes=15))], clock())
    feed_id = store.feeds()[0].id
    summary = "إنفيديا تحصل على ترخيص لتصدير الرقائق. " * 200  # ~8,000 characters
    entry = FeedEntry(key="guid:long", guid=None, link=None, title="عنوان طويل جدا هنا",
                      summary=summary, content="", published=None, date_status="missing")
    with store.tx() as tx:
        items, _ = tx.insert_items(feed_id, "منفذ", [entry], clock())
        ev = _event("export_permit", "nvidia")
        eid = tx.create_event(ev, headline="عنوان", sort_date=clock(), now=clock(),
                              outlet="منفذ")
        tx.add_source(eid, items[0], ev, clock())
    with store.tx() as tx:
        [(_, text, _)] = tx.items_after(0, clock() - timedelta(days=1), neardup.TEXT_CHARS)
    whole = f"{entry.title} {summary}"
    assert len(text) < 700 < len(whole)
    assert text[:neardup.TEXT_CHARS] == whole[:neardup.TEXT_CHARS]
