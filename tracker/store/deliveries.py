"""Every statement about outbox bookkeeping: updates and digests queued, rows claimed with
their chats' send slots, outcomes recorded.

The outbox drain (:mod:`tracker.alerts.outbox`) calls :func:`claim_outbox` and
:func:`record_outcomes`; the pipeline calls :func:`enqueue_updates` in the transaction that
attaches a new source to an event.

Outbox kinds:

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlmodel import col, select

from tracker.model import SourceView, TimelineEvent
from tracker.store import gates
from tracker.store.repo import OutboxMessage, Store, Tx
from tracker.store.tables import EventRow, EventSourceRow, OutboxRow
from tracker.store.views import event_view as _event_view


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
