"""A database error while a feed is ingested is recorded on the feed and frees its lease, on
SQLite and on PostgreSQL; when even the failure cannot be written, the lease is still freed.

The errors are real: between the fetch and the ingest, the ``item`` table is renamed away
through a second connection (a fetcher wrapper does it at the fetch seam), so the insert
fails inside the database exactly as a broken schema or a refused value would; and a trigger
that raises on every write of ``feed.last_error`` makes the failure record itself fail.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import Clock
from tests.pipeline.helpers import FeedRow, make_config, rows, running
from tests.support.feedserver import FeedServer
from tracker.feeds.fetch import Fetcher, FetchResult, FetchState

FIXTURE = Path(__file__).parents[1] / "data" / "feeds" / "parse" / "undeclared_cp1256.body"


class _BreaksTheItemTable:
    """Fetches for real, then renames the item table so the ingest that follows fails."""

    def __init__(self, inner: Fetcher, db_url: str) -> None:
        self.inner = inner
        self.db_url = db_url

    async def fetch(self, url: str, state: FetchState | None = None) -> FetchResult:
        result = await self.inner.fetch(url, state)
        engine = create_engine(self.db_url)
        try:
            with engine.begin() as conn:
                conn.execute(text("ALTER TABLE item RENAME TO item_elsewhere"))
        finally:
            engine.dispose()
        return result


async def test_store_error_is_recorded_and_lease_released(database_url: str,
                                                          clock: Clock) -> None:
    """The feed's failure count, kind and message are written and the lease is free again."""
    with FeedServer() as srv:
        srv.add("/feed.xml", FIXTURE.read_bytes(), content_type="application/xml")
        cfg = make_config(database_url, [{"url": srv.url("/feed.xml"), "name": "f"}])
        async with running(cfg, clock) as (app, _):
            real = app.pipeline.fetcher_for(srv.url("/feed.xml"))
            app.pipeline.fetcher_for = lambda url: _BreaksTheItemTable(real, database_url)  # type: ignore[assignment,return-value]
            report = await app.pipeline.run_cycle(all_feeds=True)
            (feed,) = rows(app, FeedRow)
    (polled,) = report.feeds
    assert polled.status == "error" and polled.error_kind == "store"
    assert feed.consecutive_failures == 1
    assert feed.last_error_kind == "store" and "item" in (feed.last_error or "")
    assert feed.lease_owner is None and feed.lease_expires is None
    assert feed.next_poll_at is not None and feed.next_poll_at > clock()


_REFUSE = {
    "sqlite": ["CREATE TRIGGER refuse_failure BEFORE UPDATE OF last_error ON feed "
               "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"],
    "postgresql": ["CREATE FUNCTION refuse_failure() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'refused by the test trigger'; END $$ LANGUAGE plpgsql",
                   "CREATE TRIGGER refuse_failure BEFORE UPDATE OF last_error ON feed "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_failure()"],
}
_ALLOW = {"sqlite": ["DROP TRIGGER refuse_failure"],
          "postgresql": ["DROP TRIGGER refuse_failure ON feed"]}


def _ddl(db_url: str, statements: dict[str, list[str]]) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            for statement in statements[engine.dialect.name]:
                conn.execute(text(statement))
    finally:
        engine.dispose()


async def test_a_failure_that_cannot_be_recorded_still_frees_the_lease(
    database_url: str, clock: Clock
) -> None:
    """When the database refuses even the failure record (a trigger raising on the write),
    the feed's lease is released all the same, so the next cycle polls it and records it."""
    with FeedServer() as srv:
        srv.add("/down.xml", b"down", status=500)
        cfg = make_config(database_url, [{"url": srv.url("/down.xml"), "name": "f"}])
        async with running(cfg, clock) as (app, _):
            _ddl(database_url, _REFUSE)
            (refused,) = (await app.pipeline.run_cycle(all_feeds=True)).feeds
            (feed,) = rows(app, FeedRow)
            assert refused.status == "error" and refused.error_kind == "http_500"
            assert feed.consecutive_failures == 0 and feed.last_error is None  # not recorded
            assert feed.lease_owner is None and feed.lease_expires is None  # but freed
            _ddl(database_url, _ALLOW)
            (recorded,) = (await app.pipeline.run_cycle(all_feeds=True)).feeds
            (feed,) = rows(app, FeedRow)
    assert recorded.error_kind == "http_500"
    assert feed.consecutive_failures == 1 and feed.last_error_kind == "http_500"
    assert feed.lease_owner is None
    assert len(srv.requests_for("/down.xml")) == 2
