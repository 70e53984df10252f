"""Building a real pipeline (shipped taxonomy and gazetteer, real store) for tests."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from tests.conftest import Clock
from tracker.app import App, open_app
from tracker.config import Config, parse_config
from tracker.store.tables import EventRow, EventSourceRow, FeedRow, ItemRow, OutboxRow

REPO = Path(__file__).resolve().parents[2]


def make_config(
    db_url: str, feeds: Sequence[dict[str, Any]], watchlists: Sequence[dict[str, Any]] = (),
    **sections: dict[str, Any],
) -> Config:
    """A config that uses the shipped taxonomy and gazetteer, with short test timeouts."""
    raw: dict[str, Any] = {
        "database": {"url": db_url},
        "fetch": {"connect_timeout": 2, "read_timeout": 1, "max_body_bytes": 300_000},
        "feeds": list(feeds),
        "watchlists": list(watchlists),
    }
    for name, table in sections.items():
        raw.setdefault(name, {}).update(table)
    return parse_config(raw, REPO / "config" / "tracker.toml", env={})


@asynccontextmanager
async def running(config: Config, clock: Clock) -> AsyncIterator[tuple[App, io.StringIO]]:
    """An opened app and the console its notifier writes to."""
    out = io.StringIO()
    async with open_app(config, clock, out) as app:
        yield app, out


def rows(app: App, table: type[Any]) -> list[Any]:
    with Session(app.store.engine) as s:
        return list(s.exec(select(table)).all())


__all__ = ["EventRow", "EventSourceRow", "FeedRow", "ItemRow", "OutboxRow", "make_config",
           "rows", "running"]
