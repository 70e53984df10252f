"""Every statement about Telegram subscribers, their watch rules, and outbox bookkeeping.

The bot's commands call the subscriber functions; the outbox drain calls :func:`claim_outbox`
and :func:`record_outcomes`; the pipeline calls :func:`enqueue_updates` in the transaction
that attaches a new source to an event.

Outbox kinds handled here:

* ``alert``  — the first message about an event to a chat (written by the pipeline);
* ``update`` — the event gained sources after its alert was sent: the sender edits the alert
  message (``message_id`` is copied from the alert row when the update is queued);
* ``digest`` — a daily or weekly digest; ``watchlist`` holds ``digest:<period>:<key>|<since>|
  <until>`` so a digest for one period is queued once per chat, however often the job runs.

Outcomes are recorded in one transaction per batch. A row is marked sent only after delivery,
so a crash can repeat only messages that were delivered but not yet recorded — the drain
bounds those by its concurrency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, update
from sqlmodel import col, select

from tracker.model import SourceView, TimelineEvent
from tracker.store import gates
from tracker.store.repo import OutboxMessage, Store, Tx
from tracker.store.tables import EventRow, EventSourceRow, OutboxRow, SubscriberRow, WatchRuleRow
from tracker.store.views import event_view as _event_view


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


@dataclass(frozen=True)
class Sent:
    """A delivered outbox row: the Telegram message id(s) and how many sources it showed."""

    outbox_id: int
    message_id: str | None
    source_count: int = 0
    note: str | None = None  # e.g. "delivered-unconfirmed: …" (kept in last_error)


@dataclass(frozen=True)
class Retry:
    """A row to try again at ``next_attempt_at`` (or, with ``give_up``, to fail for good)."""

    outbox_id: int
    error: str
    next_attempt_at: datetime
    give_up: bool = False
    flood: str | None = None  # a flood wait until next_attempt_at: the chat id, or "*" (all)
    counts: bool = True  # False: a wait the receiver asked for, not a failed attempt


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


# --- outbox ------------------------------------------------------------------------------


def enqueue_updates(tx: Tx, event_id: int, now: datetime) -> int:
    """Queue an edit of every sent alert of ``event_id`` whose message shows fewer outlets
    (``sent_source_count`` holds the distinct outlets a message showed; a further article
    from an outlet already shown edits nothing).

    The pipeline calls this in the transaction that added a source to the event. An update
    row already pending is left alone (it renders the sources current at sending time); a
    sent or failed one is re-armed. Returns the number of rows queued or re-armed.
    """
    event = tx.session.get(EventRow, event_id)
    if event is None:
        return 0
    rows = tx.session.exec(select(OutboxRow).where(
        OutboxRow.event_id == event_id, col(OutboxRow.kind).in_(("alert", "update")))).all()
    alerts = {r.chat_id: r for r in rows if r.kind == "alert" and r.state == "sent"}
    updates = {r.chat_id: r for r in rows if r.kind == "update"}
    queued = 0
    for chat_id, alert in alerts.items():
        upd = updates.get(chat_id)
        shown = alert.sent_source_count
        if upd is not None and upd.state == "sent":
            shown = max(shown, upd.sent_source_count)
        if event.outlet_count <= shown or not alert.message_id:
            continue
        if upd is None:
            tx.session.add(OutboxRow(event_id=event_id, chat_id=chat_id, kind="update",
                                     watchlist=alert.watchlist, next_attempt_at=now,
                                     created_at=now, message_id=alert.message_id))
        elif upd.state == "pending":
            continue
        else:
            upd.state, upd.attempts, upd.next_attempt_at = "pending", 0, now
            upd.message_id = upd.message_id or alert.message_id
            upd.last_error = None
            tx.session.add(upd)
        queued += 1
    tx.session.flush()
    return queued


def digest_key(period: str, now: datetime) -> str:
    """The identity of a digest period: the UTC day (daily) or ISO week (weekly) of ``now``."""
    if period == "weekly":
        year, week, _ = now.isocalendar()
        return f"digest:weekly:{year}-W{week:02d}"
    return f"digest:daily:{now.date().isoformat()}"


def enqueue_digest(store: Store, chat_id: str, key: str, since: datetime, until: datetime,
                   now: datetime) -> bool:
    """Queue one digest row for (chat, period key); False when that period is queued already."""
    with store.tx() as tx:
        exists = tx.session.exec(select(OutboxRow.id).where(
            OutboxRow.chat_id == chat_id, OutboxRow.kind == "digest",
            col(OutboxRow.watchlist).startswith(key + "|"))).first()
        if exists is not None:
            return False
        tx.session.add(OutboxRow(
            event_id=None, chat_id=chat_id, kind="digest", next_attempt_at=now, created_at=now,
            watchlist=f"{key}|{since.isoformat()}|{until.isoformat()}"))
        return True


def parse_digest_window(watchlist: str | None) -> tuple[str, datetime, datetime] | None:
    """(period, since, until) of a digest row, or None when it is not one."""
    if not watchlist or not watchlist.startswith("digest:"):
        return None
    key, since, until = watchlist.split("|")
    return key.split(":")[1], datetime.fromisoformat(since), datetime.fromisoformat(until)


def claim_outbox(store: Store, owner: str, now: datetime, lease: timedelta, limit: int, *,
                 interval_of: Callable[[str], float] | None = None,
                 horizon: timedelta = timedelta(seconds=10)) -> list[OutboxMessage]:
    """Lease due pending rows, oldest first, each with the wait its chat's gate imposes.

    ``interval_of(chat_id)`` is the spacing Telegram wants for that chat (seconds; None: no
    spacing); flood waits are always honoured. The order of decisions is in
    :mod:`tracker.store.gates`. Events and their sources are loaded once per event, not once
    per row, so a fan-out of one event to thousands of chats costs a few queries per batch.
    """
    postgres = store.engine.dialect.name == "postgresql"
    with store.tx() as tx:
        bot_flood = gates.lock_bot_gate(tx)
        if bot_flood is not None and bot_flood > now:
            return []
        chosen: list[tuple[OutboxRow, float]] = []
        running: dict[str, datetime] = {}
        known: dict[str, tuple[datetime, datetime | None]] = {}
        for _ in range(5):  # rows put off move out of the way: look once more behind them
            want = limit - len(chosen)
            q = (select(OutboxRow)
                 .where(OutboxRow.state == "pending", OutboxRow.next_attempt_at <= now,
                        or_(col(OutboxRow.lease_expires).is_(None),
                            col(OutboxRow.lease_expires) < now))
                 .order_by(col(OutboxRow.id)).limit(want))
            if postgres:
                q = q.with_for_update(skip_locked=True)
            rows = tx.session.exec(q).all()
            if not rows:
                break
            pace = {c: (interval_of(c) if interval_of else 0.0)
                    for c in {r.chat_id for r in rows} - known.keys()}
            known.update(gates.reserve(tx, [c for c, p in pace.items() if p > 0]))
            known.update(gates.gates_of(tx, [c for c, p in pace.items() if p <= 0]))
            for c in pace:
                known.setdefault(c, (now, None))
            put_off: list[dict[str, Any]] = []
            for r in rows:
                gate_next, flood = known[r.chat_id]
                slot = gates.slot_for(now, running.get(r.chat_id, gate_next), flood, None)
                if slot - now > horizon:
                    put_off.append({"b_id": r.id, "b_next": slot})
                    continue
                chosen.append((r, (slot - now).total_seconds()))
                step = interval_of(r.chat_id) if interval_of else 0.0
                if step > 0:
                    running[r.chat_id] = slot + timedelta(seconds=step)
            if put_off:
                table: Any = OutboxRow.__table__  # type: ignore[attr-defined]
                tx.session.connection().execute(
                    table.update().where(table.c.id == bindparam("b_id"))
                    .values(next_attempt_at=bindparam("b_next")), put_off)
            if len(rows) < want or len(chosen) >= limit:
                break
        gates.save_next(tx, running)
        if not chosen:
            return []
        rows = [r for r, _ in chosen]
        waits = {r.id: w for r, w in chosen}
        ids = [r.id for r in rows]
        tx.session.execute(update(OutboxRow).where(col(OutboxRow.id).in_(ids))
                           .values(lease_owner=owner, lease_expires=now + lease),
                           execution_options={"synchronize_session": False})
        event_ids = sorted({r.event_id for r in rows if r.event_id is not None})
        events: dict[int, TimelineEvent] = {}
        sources: dict[int, list[SourceView]] = {}
        if event_ids:
            for ev in tx.session.exec(select(EventRow).where(col(EventRow.id).in_(event_ids))):
                events[ev.id or 0] = _event_view(ev)
            for s in tx.session.exec(select(EventSourceRow)
                                     .where(col(EventSourceRow.event_id).in_(event_ids))
                                     .order_by(col(EventSourceRow.fetched),
                                               col(EventSourceRow.id))):
                sources.setdefault(s.event_id, []).append(
                    SourceView(s.outlet, s.url, s.published, s.fetched))
        out = []
        for r in rows:
            assert r.id is not None
            ev_id = r.event_id
            out.append(OutboxMessage(
                id=r.id, chat_id=r.chat_id, kind=r.kind, watchlist=r.watchlist,
                attempts=r.attempts, event=events.get(ev_id) if ev_id is not None else None,
                sources=tuple(sources.get(ev_id, ())) if ev_id is not None else (),
                message_id=r.message_id, payload=r.payload, wait=waits[r.id]))
        return out


def record_outcomes(store: Store, now: datetime, sent: Sequence[Sent],
                    retries: Sequence[Retry] = ()) -> None:
    """Record a batch of delivery outcomes in one transaction."""
    if not sent and not retries:
        return
    with store.tx() as tx:
        conn = tx.session.connection()
        table: Any = OutboxRow.__table__  # type: ignore[attr-defined]
        if sent:
            conn.execute(
                table.update().where(table.c.id == bindparam("b_id")).values(
                    state="sent", sent_at=now, message_id=bindparam("b_mid"),
                    sent_source_count=bindparam("b_count"), attempts=table.c.attempts + 1,
                    lease_owner=None, lease_expires=None, last_error=bindparam("b_note")),
                [{"b_id": s.outbox_id, "b_mid": s.message_id, "b_count": s.source_count,
                  "b_note": s.note[:2000] if s.note else None} for s in sent])
            ids = [s.outbox_id for s in sent]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                alerted = select(OutboxRow.event_id).where(
                    col(OutboxRow.id).in_(chunk), col(OutboxRow.kind) == "alert",
                    col(OutboxRow.event_id).is_not(None)).distinct()
                tx.session.execute(update(EventRow).where(col(EventRow.id).in_(alerted))
                                   .values(alerted=True),
                                   execution_options={"synchronize_session": False})
            _rearm_stale(tx, ids, now)
        if retries:
            # a row another process has sent meanwhile (its claim ran out while this one
            # waited, e.g. on a chat's gate) stays sent: a late retry never re-queues it
            conn.execute(
                table.update().where(table.c.id == bindparam("b_id"),
                                     table.c.state == "pending").values(
                    state=bindparam("b_state"), next_attempt_at=bindparam("b_next"),
                    last_error=bindparam("b_error"),
                    attempts=table.c.attempts + bindparam("b_step"),
                    lease_owner=None, lease_expires=None),
                [{"b_id": r.outbox_id, "b_state": "failed" if r.give_up else "pending",
                  "b_next": r.next_attempt_at, "b_error": r.error[:2000],
                  "b_step": 1 if r.counts else 0} for r in retries])
            floods: dict[str, datetime] = {}
            for r in retries:
                if r.flood is not None:
                    floods[r.flood] = max(r.next_attempt_at, floods.get(r.flood, now))
            gates.record_floods(tx, floods)


def _rearm_stale(tx: Tx, sent_ids: Sequence[int], now: datetime) -> None:
    """A source added while an alert or update was in flight is missing from the message:
    queue the edit now, as :func:`enqueue_updates` would have if the row had been sent."""
    stale: set[int] = set()
    for start in range(0, len(sent_ids), 500):
        chunk = sent_ids[start:start + 500]
        rows = tx.session.exec(
            select(OutboxRow.event_id).join(EventRow, col(EventRow.id) == OutboxRow.event_id)
            .where(col(OutboxRow.id).in_(chunk), col(OutboxRow.kind).in_(("alert", "update")),
                   col(OutboxRow.sent_source_count) < col(EventRow.outlet_count))
            .distinct()).all()
        stale.update(e for e in rows if e is not None)
    for event_id in sorted(stale):
        enqueue_updates(tx, event_id, now)


def outbox_states(store: Store) -> dict[str, int]:
    """Row counts per (kind, state), keyed ``kind/state``."""
    with store.tx() as tx:
        rows = tx.session.exec(select(OutboxRow.kind, OutboxRow.state, func.count())
                               .group_by(col(OutboxRow.kind), col(OutboxRow.state))).all()
        return {f"{k}/{s}": int(n) for k, s, n in rows}


def unconfirmed_count(store: Store) -> int:
    """Rows Telegram accepted with an answer we could not read (sent, never resent)."""
    with store.tx() as tx:
        return int(tx.session.exec(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.state == "sent",
            col(OutboxRow.last_error).startswith("delivered-unconfirmed"))).one())


def delivered_counts(store: Store) -> dict[str, int]:
    """Sent rows per chat (tests and benchmarks compare it with what Telegram received)."""
    with store.tx() as tx:
        rows = tx.session.exec(select(OutboxRow.chat_id, func.count())
                               .where(OutboxRow.state == "sent")
                               .group_by(col(OutboxRow.chat_id))).all()
        return {c: int(n) for c, n in rows}

