"""Per-chat send gates in the database, so spacing and flood waits hold across a cluster.

Telegram allows about one message per second to a private chat and twenty per minute to a
group, and answers 429 with ``retry_after`` when a bot goes faster; a bot that keeps sending
during that wait gets longer bans. The limits are Telegram's view of the *bot*, not of one
process, so they are kept here, next to the outbox, and taken in the claim transaction:

1. every claim first takes the gate row ``"*"`` (the bot as a whole) for update; claims of
   all processes are therefore serialised for the few milliseconds they last (SQLite: the
   first statement is a write, which takes the database's write lock);
2. a global flood wait (``"*"``.flood_until in the future) claims nothing;
3. each candidate row, oldest first, gets the slot ``max(now, next_at, flood_until)`` of its
   chat; ``next_at`` then moves one interval past that slot. A row whose slot lies beyond
   the claim's horizon is not claimed: its ``next_attempt_at`` moves to the slot, so it
   neither blocks the rows behind it nor loses its turn;
4. a 429 is recorded with the outcomes (:func:`record_floods`): ``flood_until`` only ever
   grows, and every later claim respects it, whichever outbox row comes next.

Pure helpers are at the top; the functions taking a :class:`~tracker.store.repo.Tx` run
inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from tracker.store.repo import Store, Tx
from tracker.store.tables import ChatGateRow

ALL = "*"  # the gate of the bot as a whole
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_for(now: datetime, next_at: datetime | None, flood_until: datetime | None,
             bot_flood: datetime | None) -> datetime:
    """The earliest time a message may go to a chat with these gates."""
    return max(t for t in (now, next_at, flood_until, bot_flood) if t is not None)


def _table() -> Any:
    return ChatGateRow.__table__  # type: ignore[attr-defined]


def _ensure(tx: Tx, chats: Iterable[str]) -> None:
    """Insert the missing gate rows (free since the epoch)."""
    rows = [{"chat_id": c, "next_at": _EPOCH} for c in sorted(set(chats))]
    if not rows:
        return
    dialect = tx.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(_table()).on_conflict_do_nothing(index_elements=["chat_id"])
    tx.session.execute(stmt, rows)


def lock_bot_gate(tx: Tx) -> datetime | None:
    """Take the ``"*"`` gate (serialises claims); the end of a global flood wait, if any."""
    _ensure(tx, [ALL])
    q = select(ChatGateRow).where(ChatGateRow.chat_id == ALL)
    if tx.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    row = tx.session.exec(q).one()
    tx.session.expunge(row)
    return row.flood_until


def gates_of(tx: Tx, chats: Iterable[str], *, lock: bool = False
             ) -> dict[str, tuple[datetime, datetime | None]]:
    """``chat -> (next_at, flood_until)`` of the chats that have a gate row."""
    ids = sorted(set(chats))
    out: dict[str, tuple[datetime, datetime | None]] = {}
    postgres = tx.session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), 500):
        q = (select(ChatGateRow.chat_id, ChatGateRow.next_at, ChatGateRow.flood_until)
             .where(col(ChatGateRow.chat_id).in_(ids[start:start + 500]))
             .order_by(col(ChatGateRow.chat_id)))
        if lock and postgres:
            q = q.with_for_update()
        for chat, next_at, flood in tx.session.exec(q).all():
            out[chat] = (next_at, flood)
    return out


def reserve(tx: Tx, chats: Iterable[str]) -> dict[str, tuple[datetime, datetime | None]]:
    """Create and lock the gates of ``chats`` for this transaction; their current values."""
    chats = sorted(set(chats))
    _ensure(tx, chats)
    return gates_of(tx, chats, lock=True)


def save_next(tx: Tx, next_at: Mapping[str, datetime]) -> None:
    """Store the new end of the last slot handed out, per chat."""
    if not next_at:
        return
    table = _table()
    tx.session.connection().execute(
        table.update().where(table.c.chat_id == bindparam("b_chat"))
        .values(next_at=bindparam("b_next")),
        [{"b_chat": c, "b_next": t} for c, t in sorted(next_at.items())])


def record_floods(tx: Tx, floods: Mapping[str, datetime]) -> None:
    """Flood waits Telegram asked for (``"*"``: the whole bot); a wait is never shortened."""
    if not floods:
        return
    _ensure(tx, floods)
    current = gates_of(tx, floods, lock=True)
    longer: dict[str, datetime] = {}
    for chat, until in floods.items():
        old = current.get(chat, (_EPOCH, None))[1]
        if old is None or old < until:
            longer[chat] = until
    if not longer:
        return
    table = _table()
    tx.session.connection().execute(
        table.update().where(table.c.chat_id == bindparam("b_chat"))
        .values(flood_until=bindparam("b_until")),
        [{"b_chat": c, "b_until": t} for c, t in sorted(longer.items())])


def flood_waits(store: Store, chats: Iterable[str]) -> dict[str, datetime]:
    """The flood waits recorded for ``chats`` (and ``"*"``), for a check just before sending."""
    with store.tx() as tx:
        gates = gates_of(tx, [*chats, ALL])
    return {c: flood for c, (_, flood) in gates.items() if flood is not None}


def prune(store: Store, now: datetime, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete gates nobody needs any more (free for a day); returns how many."""
    table = _table()
    cutoff = now - older_than
    with store.tx() as tx:
        result = tx.session.connection().execute(
            table.delete().where(table.c.chat_id != ALL, table.c.next_at < cutoff,
                                 (table.c.flood_until.is_(None)) | (table.c.flood_until < cutoff)))
        return int(getattr(result, "rowcount", 0) or 0)
