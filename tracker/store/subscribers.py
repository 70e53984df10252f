"""Every statement about Telegram subscribers and their watch rules, and the event reads the
bot makes. Outbox bookkeeping is in :mod:`.deliveries` (its names are re-exported here for
the callers that use both).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import col, select

from tracker.model import TimelineEvent
from tracker.store.deliveries import (  # re-exported
    Retry,
    Sent,
    claim_outbox,
    delivered_counts,
    digest_key,
    enqueue_digest,
    enqueue_updates,
    outbox_states,
    parse_digest_window,
    record_outcomes,
    unconfirmed_count,
)
from tracker.store.repo import Store, Tx
from tracker.store.tables import EventRow, EventSourceRow, OutboxRow, SubscriberRow, WatchRuleRow
from tracker.store.views import event_view as _event_view

__all__ = [
    "Retry",
    "Sent",
    "SubscriberView",
    "active_subscribers",
    "add_rule",
    "chat_langs",
    "claim_outbox",
    "deactivate",
    "delivered_counts",
    "digest_key",
    "enqueue_digest",
    "enqueue_updates",
    "events_between",
    "events_for_rules",
    "failed_messages",
    "forget",
    "get_event",
    "get_subscriber",
    "outbox_states",
    "parse_digest_window",
    "queue_broadcast",
    "quiet_chats",
    "record_outcomes",
    "remove_rule",
    "rule_row",
    "subscribe",
    "subscriber_counts",
    "unconfirmed_count",
    "update_subscriber",
]


@dataclass(frozen=True)
class SubscriberView:
    """A subscriber and its own watch rules.

    Rules are stored one row each: kind ``entity`` (that entity, any event), ``event`` (that
    event type, any entity) or ``pair`` (``"entity|event"``: both). Any rule that holds is
    enough (see :func:`tracker.alerts.match.matched_rule`).
    """

    chat_id: str
    lang: str
    mode: str
    muted_until: datetime | None
    active: bool
    events: frozenset[str]
    entities: frozenset[str]
    pairs: frozenset[tuple[str, str]] = frozenset()
    quiet_low: bool = False

    @property
    def rules(self) -> frozenset[tuple[str | None, str | None]]:
        """Every rule as ``(entity or None, event type or None)``."""
        return frozenset({*((e, None) for e in self.entities),
                          *((None, t) for t in self.events), *self.pairs})


def rule_row(rule: tuple[str | None, str | None]) -> tuple[str, str]:
    """The (kind, value) a rule is stored as."""
    entity, event = rule
    if entity and event:
        return "pair", f"{entity}|{event}"
    if entity:
        return "entity", entity
    if event:
        return "event", event
    raise ValueError("a watch rule names an entity, an event type, or both")


def _pairs(values: Iterable[str]) -> frozenset[tuple[str, str]]:
    return frozenset((e, t) for e, _, t in (v.partition("|") for v in values) if e and t)


# --- subscribers ---------------------------------------------------------------------------


def _row(tx: Tx, chat_id: str) -> SubscriberRow | None:
    return tx.session.exec(select(SubscriberRow).where(SubscriberRow.chat_id == chat_id)).first()


def _view(tx: Tx, row: SubscriberRow) -> SubscriberView:
    rules = tx.session.exec(select(WatchRuleRow).where(WatchRuleRow.subscriber_id == row.id)).all()
    return SubscriberView(
        chat_id=row.chat_id, lang=row.lang, mode=row.mode, muted_until=row.muted_until,
        active=row.active, events=frozenset(r.value for r in rules if r.kind == "event"),
        entities=frozenset(r.value for r in rules if r.kind == "entity"),
        pairs=_pairs(r.value for r in rules if r.kind == "pair"), quiet_low=row.quiet_low)


def subscribe(store: Store, chat_id: str, lang: str, now: datetime) -> bool:
    """Create or reactivate the subscriber; True when it was not active before."""
    with store.tx() as tx:
        row = _row(tx, chat_id)
        if row is None:
            tx.session.add(SubscriberRow(chat_id=chat_id, lang=lang, created_at=now))
            return True
        if row.active:
            return False
        row.active = True
        tx.session.add(row)
        return True


def get_subscriber(store: Store, chat_id: str) -> SubscriberView | None:
    with store.tx() as tx:
        row = _row(tx, chat_id)
        return None if row is None else _view(tx, row)


def update_subscriber(store: Store, chat_id: str, *, lang: str | None = None,
                      mode: str | None = None, muted_until: datetime | None = None,
                      unmute: bool = False, quiet_low: bool | None = None) -> bool:
    """Change settings of an existing subscriber; False when there is none."""
    with store.tx() as tx:
        row = _row(tx, chat_id)
        if row is None:
            return False
        if lang is not None:
            row.lang = lang
        if mode is not None:
            row.mode = mode
        if muted_until is not None or unmute:
            row.muted_until = muted_until
        if quiet_low is not None:
            row.quiet_low = quiet_low
        tx.session.add(row)
        return True


def add_rule(store: Store, chat_id: str, kind: str, value: str) -> bool:
    """Watch ``value`` (kind ``entity``, ``event`` or ``pair``, see :func:`rule_row`); False
    when already watched or there is no such subscriber."""
    with store.tx() as tx:
        row = _row(tx, chat_id)
        if row is None:
            return False
        exists = tx.session.exec(select(WatchRuleRow.id).where(
            WatchRuleRow.subscriber_id == row.id, WatchRuleRow.kind == kind,
            WatchRuleRow.value == value)).first()
        if exists is not None:
            return False
        assert row.id is not None
        tx.session.add(WatchRuleRow(subscriber_id=row.id, kind=kind, value=value))
        return True


def remove_rule(store: Store, chat_id: str, kind: str, value: str) -> bool:
    with store.tx() as tx:
        row = _row(tx, chat_id)
        if row is None:
            return False
        result = tx.session.execute(delete(WatchRuleRow).where(
            col(WatchRuleRow.subscriber_id) == row.id, col(WatchRuleRow.kind) == kind,
            col(WatchRuleRow.value) == value))
        return bool(getattr(result, "rowcount", 0))


def forget(store: Store, chat_id: str) -> bool:
    """/stop: delete the subscriber, its rules and every outbox row addressed to it."""
    with store.tx() as tx:
        row = _row(tx, chat_id)
        tx.session.execute(delete(OutboxRow).where(col(OutboxRow.chat_id) == chat_id))
        if row is None:
            return False
        tx.session.execute(delete(WatchRuleRow).where(col(WatchRuleRow.subscriber_id) == row.id))
        tx.session.delete(row)
        return True


def deactivate(store: Store, chat_id: str, reason: str) -> int:
    """The chat cannot receive messages: deactivate it and fail its pending rows.

    Returns how many pending rows were failed (the ones in flight fail on their own).
    """
    with store.tx() as tx:
        tx.session.execute(update(SubscriberRow).where(col(SubscriberRow.chat_id) == chat_id)
                           .values(active=False))
        result = tx.session.execute(
            update(OutboxRow).where(col(OutboxRow.chat_id) == chat_id,
                                    col(OutboxRow.state) == "pending",
                                    col(OutboxRow.lease_owner).is_(None))
            .values(state="failed", last_error=f"chat deactivated: {reason}"[:2000]))
        return int(getattr(result, "rowcount", 0) or 0)


def chat_langs(store: Store, chat_ids: Iterable[str]) -> dict[str, str]:
    """Interface language of each chat that is a subscriber (others are config channels)."""
    ids = sorted(set(chat_ids))
    out: dict[str, str] = {}
    with store.tx() as tx:
        for start in range(0, len(ids), 500):
            rows = tx.session.exec(select(SubscriberRow.chat_id, SubscriberRow.lang).where(
                col(SubscriberRow.chat_id).in_(ids[start:start + 500]))).all()
            out.update({c: lang for c, lang in rows})
    return out


def active_subscribers(store: Store, mode: str | None = None) -> list[SubscriberView]:
    with store.tx() as tx:
        q = select(SubscriberRow).where(SubscriberRow.active)
        if mode is not None:
            q = q.where(SubscriberRow.mode == mode)
        return [_view(tx, r) for r in tx.session.exec(q.order_by(col(SubscriberRow.id))).all()]


def subscriber_counts(store: Store) -> dict[str, int]:
    """active, inactive and per-mode counts of subscribers."""
    with store.tx() as tx:
        rows = tx.session.exec(select(SubscriberRow.active, SubscriberRow.mode, func.count())
                               .group_by(col(SubscriberRow.active), col(SubscriberRow.mode))).all()
    out: dict[str, int] = {"active": 0, "inactive": 0}
    for active, mode, n in rows:
        out["active" if active else "inactive"] += int(n)
        if active:
            out[f"mode_{mode}"] = out.get(f"mode_{mode}", 0) + int(n)
    return out


def queue_broadcast(store: Store, text: str, now: datetime) -> int:
    """Queue an operator notice with ``text`` for every active subscriber; returns how many."""
    with store.tx() as tx:
        chats = tx.session.exec(select(SubscriberRow.chat_id).where(SubscriberRow.active)).all()
        for chat in chats:
            tx.enqueue_notice(chat, text, now)
        return len(chats)


def failed_messages(store: Store, limit: int = 10) -> list[tuple[int, str, str, str]]:
    """(outbox id, chat, kind, last error) of the latest failed rows, for the operator."""
    with store.tx() as tx:
        rows = tx.session.exec(select(OutboxRow).where(OutboxRow.state == "failed")
                               .order_by(col(OutboxRow.id).desc()).limit(limit)).all()
        return [(r.id or 0, r.chat_id, r.kind, r.last_error or "") for r in rows]


# --- events for the bot ------------------------------------------------------------------


def get_event(store: Store, event_id: int) -> tuple[TimelineEvent, list[str]] | None:
    """The event and the sentences its sources reported it in (for the evidence button)."""
    with store.tx() as tx:
        row = tx.session.get(EventRow, event_id)
        if row is None:
            return None
        sentences = tx.session.exec(select(EventSourceRow.sentence).where(
            EventSourceRow.event_id == event_id).order_by(col(EventSourceRow.id))).all()
        return _event_view(row), [s for s in sentences if s]


def events_between(store: Store, since: datetime, until: datetime,
                   events: frozenset[str], entities: frozenset[str],
                   limit: int = 200) -> list[TimelineEvent]:
    """Events first seen in [since, until) that a watcher of ``events``/``entities`` wants."""
    with store.tx() as tx:
        q = select(EventRow).where(EventRow.first_seen >= since, EventRow.first_seen < until)
        if events:
            q = q.where(col(EventRow.type).in_(sorted(events)))
        if entities:
            q = q.where(or_(*(col(EventRow.entity_keys).contains(f" {e} ")
                              for e in sorted(entities))))
        q = q.order_by(col(EventRow.sort_date)).limit(limit)
        return [_event_view(r) for r in tx.session.exec(q).all()]


def events_for_rules(store: Store, since: datetime, until: datetime,
                     rules: frozenset[tuple[str | None, str | None]],
                     limit: int = 200) -> list[TimelineEvent]:
    """Events first seen in [since, until) that any of a subscriber's ``rules`` wants."""
    if not rules:
        return []
    conditions = []
    for entity, event in sorted(rules, key=lambda r: (r[0] or "", r[1] or "")):
        parts = []
        if entity:
            parts.append(col(EventRow.entity_keys).contains(f" {entity} "))
        if event:
            parts.append(col(EventRow.type) == event)
        conditions.append(and_(*parts))
    with store.tx() as tx:
        q = (select(EventRow)
             .where(EventRow.first_seen >= since, EventRow.first_seen < until, or_(*conditions))
             .order_by(col(EventRow.sort_date)).limit(limit))
        return [_event_view(r) for r in tx.session.exec(q).all()]


def quiet_chats(store: Store, chat_ids: Iterable[str]) -> set[str]:
    """The chats among ``chat_ids`` that want rumoured and planned alerts without a sound."""
    ids = sorted(set(chat_ids))
    out: set[str] = set()
    with store.tx() as tx:
        for start in range(0, len(ids), 500):
            out.update(tx.session.exec(select(SubscriberRow.chat_id).where(
                col(SubscriberRow.chat_id).in_(ids[start:start + 500]),
                SubscriberRow.quiet_low)).all())
    return out
