"""Every statement about analysts' corrections (the ``label`` table).

A correction says which event types an item, or one sentence of it, carries; ``[]`` means
"no event". They come from ``tracker label`` (source ``cli``), the buttons under Telegram
alerts (``telegram``) and the desk (``web``). ``tracker train --with-feedback`` turns them into
training examples, and ``tracker eval --feedback`` scores the current model on them. Where
several corrections cover the same item and sentence, the newest wins.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from tracker.errors import StoreError
from tracker.store.tables import EventRow, EventSourceRow, FeedRow, ItemRow, LabelRow
from tracker.store.tx import StoreBase

VERDICTS = ("label", "confirm", "not_event", "other_type")
SOURCES = ("cli", "telegram", "web")


@dataclass(frozen=True)
class LabelView:
    """One stored correction with the text it judges."""

    id: int
    item_id: int
    event_id: int | None
    sentence: str | None
    title: str
    text: str
    published: datetime | None
    url: str | None
    outlet: str
    types: tuple[str, ...]
    verdict: str
    source: str
    chat_id: str | None
    created_at: datetime


def _check(verdict: str, source: str) -> None:
    if verdict not in VERDICTS:
        raise StoreError(f"unknown verdict {verdict!r} (one of {', '.join(VERDICTS)})")
    if source not in SOURCES:
        raise StoreError(f"unknown label source {source!r} (one of {', '.join(SOURCES)})")


def find_item(store: StoreBase, ref: str) -> int:
    """The id of the item named by ``ref``: its number, or its link; StoreError if none."""
    with store.tx() as tx:
        if ref.isdigit():
            row = tx.session.get(ItemRow, int(ref))
            if row is not None and row.id is not None:
                return row.id
        found = tx.session.exec(select(ItemRow.id).where(ItemRow.link == ref)
                                .order_by(col(ItemRow.id))).first()
    if found is None:
        raise StoreError(f"no stored item {ref!r} (give an item id or its link)")
    return found


def record_item_label(store: StoreBase, item_id: int, types: Sequence[str], *, source: str,
                      chat_id: str | None, now: datetime) -> int:
    """A whole-item label (empty ``types``: not an event); returns the label id."""
    _check("label", source)
    with store.tx() as tx:
        if tx.session.get(ItemRow, item_id) is None:
            raise StoreError(f"no stored item {item_id}")
        row = LabelRow(item_id=item_id, types=json.dumps(sorted(set(types))), verdict="label",
                       source=source, chat_id=chat_id, created_at=now)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        return row.id


def record_event_feedback(store: StoreBase, event_id: int, verdict: str, *, new_type: str | None,
                          source: str, chat_id: str | None, now: datetime) -> int:
    """A verdict on an alerted event, stored against the sentence of its first source.

    ``confirm`` keeps the event's type, ``not_event`` says the sentence carries no event,
    ``other_type`` says it carries ``new_type`` instead.
    """
    _check(verdict, source)
    if verdict == "other_type" and not new_type:
        raise StoreError("verdict other_type needs the new type")
    with store.tx() as tx:
        event = tx.session.get(EventRow, event_id)
        if event is None:
            raise StoreError(f"no timeline event {event_id}")
        first = tx.session.exec(select(EventSourceRow).where(EventSourceRow.event_id == event_id)
                                .order_by(col(EventSourceRow.id)).limit(1)).first()
        if first is None:
            raise StoreError(f"timeline event {event_id} has no source item")
        types = {"confirm": [event.type], "not_event": [],
                 "other_type": [new_type or ""]}.get(verdict, [event.type])
        row = LabelRow(item_id=first.item_id, event_id=event_id, sentence=first.sentence or None,
                       types=json.dumps(types), verdict=verdict, source=source,
                       chat_id=chat_id, created_at=now)
        tx.session.add(row)
        tx.session.flush()
        assert row.id is not None
        return row.id


def labels(store: StoreBase) -> list[LabelView]:
    """Every correction, oldest first, with the item text it judges."""
    with store.tx() as tx:
        rows = tx.session.exec(
            select(LabelRow, ItemRow, FeedRow.name)
            .join(ItemRow, col(ItemRow.id) == LabelRow.item_id)
            .join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
            .order_by(col(LabelRow.created_at), col(LabelRow.id))
        ).all()
        out = []
        for label, item, outlet in rows:
            assert label.id is not None
            out.append(LabelView(
                id=label.id, item_id=label.item_id, event_id=label.event_id,
                sentence=label.sentence, title=item.title, text=item.content or item.summary,
                published=item.published, url=item.link, outlet=outlet,
                types=tuple(json.loads(label.types)), verdict=label.verdict,
                source=label.source, chat_id=label.chat_id, created_at=label.created_at))
        return out
