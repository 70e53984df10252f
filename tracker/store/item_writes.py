"""A transaction's item writes and reads: new items with their duplicate marks, and the
items near-duplicate matching reads back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Table,
    exists,
    func,
    insert,
    or_,
)
from sqlmodel import Session, col, select

from tracker.model import (
    FeedEntry,
)
from tracker.store.tables import (
    EventSourceRow,
    ItemRow,
)
from tracker.store.values import StoredItem
from tracker.text.normalize import match_key

_ITEMS: Table = ItemRow.metadata.tables["item"]  # the hot path writes these in Core


class ItemWrites:
    """The item part of :class:`~tracker.store.tx.Tx`."""

    session: Session

    def insert_items(
        self, feed_id: int, outlet: str, entries: Sequence[FeedEntry], now: datetime,
        duplicate_window: timedelta = timedelta(days=3),
    ) -> tuple[list[StoredItem], int]:
        """Store the entries not seen before; returns (new distinct items, exact duplicates).

        An entry whose key this feed already has is skipped. An entry whose canonical link or
        normalised title another item already has (within ``duplicate_window``) is stored as
        a duplicate and not returned, so it is never classified or alerted twice.
        """
        if not entries:
            return [], 0
        keys = [e.key for e in entries]
        known = set(self.session.exec(
            select(ItemRow.key).where(ItemRow.feed_id == feed_id, col(ItemRow.key).in_(keys))
        ).all())
        since = now - duplicate_window
        titled = [(entry, match_key(entry.title)[:500]) for entry in entries
                  if entry.key not in known]
        mine = self._own_copies(feed_id, titled, since)
        shared = {link for link, n in Counter(e.link for e in entries if e.link).items() if n > 1}
        todo: list[tuple[FeedEntry, str]] = []
        seen_keys: set[str] = set()
        for entry, title_key in titled:
            own_link = entry.link and entry.link not in shared and f"l:{entry.link}" in mine
            if entry.key in seen_keys or own_link or (
                    len(title_key) >= 12 and f"t:{title_key}" in mine):
                continue  # this feed has it already under another GUID (GUID churn)
            seen_keys.add(entry.key)
            todo.append((entry, title_key))
        earlier = self._earlier_copies(todo, since)
        originals: list[dict[str, object]] = []
        original_entries: list[FeedEntry] = []
        copies: list[tuple[dict[str, object], int]] = []  # (row, the item it copies)
        # a copy inside this batch is a duplicate too: mark -> index in originals (negative)
        first_of: dict[str, int] = {}
        for entry, title_key in todo:
            marks = [m for m in (f"l:{entry.link}" if entry.link else "",
                                 f"t:{title_key}" if len(title_key) >= 12 else "") if m]
            row: dict[str, object] = {
                "feed_id": feed_id, "key": entry.key[:1000], "guid": entry.guid,
                "link": entry.link, "title": entry.title, "title_key": title_key,
                "summary": entry.summary, "content": entry.content,
                "published": entry.published, "date_status": entry.date_status,
                "first_seen": now, "duplicate_of": None,
            }
            copied = next((earlier[m] for m in marks if m in earlier), None) or next(
                (-1 - first_of[m] for m in marks if m in first_of), None)
            if copied is None:
                for m in marks:
                    first_of.setdefault(m, len(originals))
                originals.append(row)
                original_entries.append(entry)
            else:
                copies.append((row, copied))
        ids = self._insert_rows(originals)
        for row, copied in copies:
            row["duplicate_of"] = copied if copied > 0 else ids[-1 - copied]
        self._insert_rows([row for row, _ in copies])
        fresh = [StoredItem(
            id=item_id, feed_id=feed_id, outlet=outlet, title=entry.title,
            summary=entry.summary, content=entry.content, link=entry.link,
            published=entry.published, date_status=entry.date_status, first_seen=now,
        ) for item_id, entry in zip(ids, original_entries, strict=True)]
        return fresh, len(copies)

    def _insert_rows(self, rows: Sequence[dict[str, object]]) -> list[int]:
        """INSERT item rows in one batched statement (SQLAlchemy's insertmanyvalues) and
        return their ids in the rows' order: RETURNING, which SQLite (3.35+) and PostgreSQL
        both have, with the parameter order kept."""
        if not rows:
            return []
        result = self.session.connection().execute(
            insert(_ITEMS).returning(_ITEMS.c.id, sort_by_parameter_order=True), list(rows))
        return [int(i) for i in result.scalars().all()]

    def _own_copies(self, feed_id: int, todo: Sequence[tuple[FeedEntry, str]],
                    since: datetime) -> set[str]:
        """Marks (``l:<link>``, ``t:<title key>``) of items this feed already has: the same
        link at any time, the same normalised title within the duplicate window."""
        links = [e.link for e, _ in todo if e.link]
        titles = [t for _, t in todo if len(t) >= 12]
        marks: set[str] = set()
        for chunk in range(0, max(len(links), len(titles)), 400):
            conditions: list[ColumnElement[bool]] = []
            if links[chunk:chunk + 400]:
                conditions.append(col(ItemRow.link).in_(links[chunk:chunk + 400]))
            if titles[chunk:chunk + 400]:
                conditions.append(col(ItemRow.title_key).in_(titles[chunk:chunk + 400])
                                  & (col(ItemRow.first_seen) >= since))
            if not conditions:
                continue
            for link, title_key, seen in self.session.exec(
                select(ItemRow.link, ItemRow.title_key, ItemRow.first_seen).where(
                    ItemRow.feed_id == feed_id, or_(*conditions))
            ).all():
                if link:
                    marks.add(f"l:{link}")
                if seen >= since:
                    marks.add(f"t:{title_key}")
        return marks

    def _earlier_copies(
        self, todo: Sequence[tuple[FeedEntry, str]], since: datetime
    ) -> dict[str, int]:
        """Stored items (within the window) with the same link or title key, by mark."""
        links = [e.link for e, _ in todo if e.link]
        titles = [t for _, t in todo if len(t) >= 12]
        found: dict[str, int] = {}
        for chunk in range(0, max(len(links), len(titles)), 400):
            conditions: list[ColumnElement[bool]] = []
            if links[chunk:chunk + 400]:
                conditions.append(col(ItemRow.link).in_(links[chunk:chunk + 400]))
            if titles[chunk:chunk + 400]:
                conditions.append(col(ItemRow.title_key).in_(titles[chunk:chunk + 400]))
            if not conditions:
                continue
            for item_id, link, title_key in self.session.exec(
                select(ItemRow.id, ItemRow.link, ItemRow.title_key).where(
                    or_(*conditions), ItemRow.first_seen >= since,
                    col(ItemRow.duplicate_of).is_(None))
            ).all():
                assert item_id is not None
                if link:
                    found.setdefault(f"l:{link}", item_id)
                found.setdefault(f"t:{title_key}", item_id)
        return found


    def items_after(self, last_id: int, since: datetime, chars: int | None = None
                    ) -> list[tuple[int, str, datetime]]:
        """(id, title + summary, first seen) of items newer than ``last_id`` that are the
        source of a timeline event (the only ones near-duplicate matching can use).

        The source test is a correlated EXISTS on the event source's item index: it reads
        only the sources of the items in range, where ``IN (SELECT item_id ...)`` read every
        stored source (see bench_ingest_scale). Without a mark yet (``last_id`` 0: a new
        process) the range is the window, through the first-seen index; with one, the ids
        after it (the primary key, already in order), so neither grows with the store.
        """
        is_source = exists().where(col(EventSourceRow.item_id) == col(ItemRow.id))
        # with ``chars`` (what the reader reads of a text), a longer summary is cut in the
        # database, so a cold near-duplicate window does not hold whole bodies
        lead = (col(ItemRow.summary) if chars is None
                else func.substr(col(ItemRow.summary), 1, chars))
        q = select(ItemRow.id, ItemRow.title, lead, ItemRow.first_seen).where(
            ItemRow.first_seen >= since, is_source)
        if last_id > 0:
            q = q.where(col(ItemRow.id) > last_id).order_by(col(ItemRow.id))
        rows = sorted(self.session.exec(q).all(), key=lambda r: r[0] or 0)
        return [(i, f"{t} {s}", seen) for i, t, s, seen in rows if i is not None]
