"""The timeline read over the standard library's ``sqlite3``, for reading commands.

``tracker timeline`` on a SQLite store would spend most of its start-up importing SQLAlchemy
and SQLModel's table classes for one query. This module sends the same statements as
:meth:`tracker.store.repo.Store.timeline` through ``sqlite3`` and decodes the rows through
the same :func:`~tracker.store.views.event_view`, so the two give the same entries
(``tests/store/test_lite.py`` compares them on a store the pipeline wrote).

It serves only a plain ``sqlite:///path`` URL of an existing file already at the newest
schema revision: :func:`open_lite` returns None for anything else, and the caller opens the
full store (which migrates). Times are stored as SQLAlchemy writes them on SQLite: naive
UTC text, ``YYYY-MM-DD HH:MM:SS.ffffff``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from tracker.model import SourceView, TimelineEntry
from tracker.store.revision import head_revision
from tracker.store.views import EVENT_COLUMNS, EventColumns, event_view

_PREFIX = "sqlite:///"
_TIMES = frozenset({"sort_date", "first_seen", "first_reported"})
_FLAGS = frozenset({"alerted", "recap"})
_SELECT = ", ".join(f"event.{c}" for c in EVENT_COLUMNS)


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL (no driver, no query string), else None."""
    if not url.startswith(_PREFIX) or "?" in url:
        return None
    path = url[len(_PREFIX):]
    return Path(path) if path and path != ":memory:" else None


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _bind(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


class LiteTimeline:
    """Timeline reads on one ``sqlite3`` connection; :meth:`close` when done."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def close(self) -> None:
        self.conn.close()

    def timeline(
        self, *, entity: str | None = None, types: Sequence[str] = (),
        since: datetime | None = None, until: datetime | None = None,
        statuses: Sequence[str] = (), limit: int | None = 200, newest_first: bool = True,
    ) -> list[TimelineEntry]:
        """What :meth:`Store.timeline <tracker.store.repo.Store.timeline>` returns."""
        sql = f"SELECT {_SELECT} FROM event"
        where: list[str] = []
        args: list[Any] = []
        date_col = "event.sort_date"
        if entity:
            sql += " JOIN event_entity ON event_entity.event_id = event.id"
            where.append("event_entity.entity_id = ?")
            args.append(entity)
            date_col = "event_entity.sort_date"
        for column, values in (("event.type", types), ("event.status", statuses)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        for op, bound in ((">=", since), ("<", until)):
            if bound is not None:
                where.append(f"{date_col} {op} ?")
                args.append(_bind(bound))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {date_col}{' DESC' if newest_first else ''}, event.id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        events = [event_view(cast(EventColumns, self._event(row)))
                  for row in self.conn.execute(sql, args)]
        sources = self._sources_of([e.id for e in events])
        return [TimelineEntry(e, sources.get(e.id, ())) for e in events]

    @staticmethod
    def _event(row: Sequence[Any]) -> SimpleNamespace:
        values = dict(zip(EVENT_COLUMNS, row, strict=True))
        for name in _TIMES:
            values[name] = _time(values[name])
        for name in _FLAGS:
            values[name] = bool(values[name])
        return SimpleNamespace(**values)

    def _sources_of(self, event_ids: Sequence[int]) -> dict[int, tuple[SourceView, ...]]:
        out: dict[int, list[SourceView]] = {}
        for chunk in range(0, len(event_ids), 500):
            ids = event_ids[chunk:chunk + 500]
            rows = self.conn.execute(
                "SELECT s.event_id, s.outlet, s.url, s.published, s.fetched, item.title "
                "FROM event_source AS s JOIN item ON item.id = s.item_id "
                f"WHERE s.event_id IN ({', '.join('?' * len(ids))}) "
                "ORDER BY s.fetched, s.id", ids)
            for event_id, outlet, url, published, fetched, title in rows:
                fetched_at = _time(fetched)
                assert fetched_at is not None
                out.setdefault(event_id, []).append(
                    SourceView(outlet, url, _time(published), fetched_at, title))
        return {k: tuple(v) for k, v in out.items()}


def open_lite(url: str) -> LiteTimeline | None:
    """A reader for ``url`` if it names an existing SQLite file at the newest revision;
    None otherwise (the caller then opens the full store, which migrates or says why not)."""
    path = sqlite_file(url)
    head = head_revision()
    if path is None or head is None or not path.is_file():
        return None
    try:
        conn = sqlite3.connect(path, timeout=30)
    except sqlite3.Error:
        return None
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or row[0] != head:
        conn.close()
        return None
    return LiteTimeline(conn)
