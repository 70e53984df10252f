"""The outbox drain: claim due messages, hand them to a notifier, record the outcome.

A message is marked sent only after the notifier returned, so a crash between the two can
repeat at most the messages in flight; nothing is ever lost. "In flight" is bounded by
``concurrency``: a slot is taken before a message is handed to the notifier and given back
only once its outcome is committed, so outcomes can be recorded in batches (one transaction
for many rows) without widening the window a crash can repeat.

Outcomes, in order:
1. the notifier returns: the row is marked sent (with the message id, for later edits);
   it raises :class:`Unconfirmed` (the receiver answered success in a form we cannot read):
   the row is marked sent too — never sent again — with the reason kept and logged as an
   error for the operator;
2. it raises :class:`RetryLater`: the row goes back to pending, due after the given delay
   (a wait the receiver asked for is not a failed attempt: ``attempts`` stays, so no storm
   of 429s brings a message nearer to being given up or lengthens its backoff);
   a flood wait (``flood`` set) also holds every later message to that chat — or, for a
   bot-wide wait, to every chat — until it has passed, here (rows already claimed) and in
   the database (:mod:`tracker.store.gates`, for every process). Flood waits on two chats
   within a second of each other are taken as one bot-wide wait;
3. it raises :class:`Undeliverable`: the row is marked failed at once (and the caller may
   deactivate the chat);
4. it raises :class:`Rejected`: the message itself was refused (e.g. malformed HTML); the row
   is marked failed at once and logged for the operator; the chat stays active;
5. anything else derived from :class:`~tracker.errors.DeliveryError` (or an unexpected
   exception in the notifier, logged with its traceback): retried with exponential backoff
   until ``max_attempts``, then marked failed and logged for the operator.

The drain claims the next batch while the previous one is still being delivered, and stops
when a claim comes back short (nothing more is due). A row claimed behind an earlier message
to its chat carries a ``wait`` (its slot): it sleeps that long without taking a delivery slot,
then checks the flood waits once more before it goes. A notifier with a ``prepare`` method
(:class:`BatchNotifier`) sees each claimed batch first, to load what it needs in one query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tracker.errors import DeliveryError
from tracker.store.gates import flood_waits
from tracker.store.repo import OutboxMessage, Store

__all__ = ["BatchNotifier", "DrainReport", "FloodHolds", "Notifier", "OutboxMessage",
           "PacedNotifier", "Rejected", "RetryLater", "Unconfirmed", "Undeliverable", "drain"]
from tracker.store.deliveries import Retry, Sent, claim_outbox, record_outcomes

log = logging.getLogger(__name__)


class RetryLater(DeliveryError):
    """The receiver asked us to wait (flood control) or is temporarily down.

    ``flood`` is ``"chat"`` when nothing may go to this chat until the delay has passed,
    ``"all"`` when nothing may go to any chat, None when only this message waits.
    """

    def __init__(self, message: str, after_seconds: float, flood: str | None = None) -> None:
        super().__init__(message)
        self.after_seconds = after_seconds
        self.flood = flood


class Unconfirmed(DeliveryError):
    """The receiver answered success, but not in a form we can read: it was probably
    delivered, so it must not be sent again."""


class Undeliverable(DeliveryError):
    """The chat cannot receive messages (blocked the bot, does not exist)."""


class Rejected(DeliveryError):
    """The receiver refused this message for good (not the chat): fail it, keep the chat."""


class Notifier(Protocol):
    """Delivers one outbox message; returns the delivered message id, if any."""

    async def deliver(self, message: OutboxMessage) -> str | None: ...


class BatchNotifier(Notifier, Protocol):
    """A notifier that wants to see each claimed batch first (to load what it needs once)."""

    async def prepare(self, messages: Sequence[OutboxMessage]) -> None: ...


class PacedNotifier(Notifier, Protocol):
    """A notifier whose receiver wants messages to one chat spaced (Telegram: 1 s for a
    private chat, 3 s for a group); the claim hands out slots accordingly."""

    def chat_interval(self, chat_id: str) -> float: ...


class FloodHolds:
    """Flood waits this drain learned of, by chat (``"*"``: every chat), on the drain's clock."""

    ALL = "*"

    def __init__(self) -> None:
        self.until: dict[str, datetime] = {}
        self.began: dict[str, datetime] = {}

    def held(self, chat_id: str, now: datetime) -> datetime | None:
        """The end of the wait that holds ``chat_id`` now, if any."""
        ends = [t for t in (self.until.get(chat_id), self.until.get(self.ALL))
                if t is not None and t > now]
        return max(ends) if ends else None

    def add(self, chat_id: str, flood: str, now: datetime, until: datetime, *,
            escalate: bool = True) -> str:
        """Record a wait; returns the gate it holds (the chat, or ``"*"``)."""
        key = self.ALL if flood == "all" else chat_id
        if escalate and key != self.ALL and any(
                c != chat_id and c != self.ALL and self.until[c] > now
                and now - self.began[c] <= timedelta(seconds=1) for c in self.until):
            key = self.ALL  # two chats refused at once: the bot as a whole is over its limit
        if self.until.get(key, now) <= until:
            self.until[key] = until
            self.began[key] = now
        return key


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unconfirmed: int = 0  # counted in ``sent`` too


async def drain(
    store: Store,
    notifier: Notifier,
    clock: Callable[[], datetime],
    owner: str,
    *,
    batch: int = 200,
    concurrency: int = 50,
    lease: timedelta = timedelta(minutes=10),
    max_attempts: int = 8,
    on_undeliverable: Callable[[str], None] | None = None,
    flush_every: float = 0.02,
) -> DrainReport:
    """Send every due message once; returns counts. Stops when nothing is due.

    Outcomes are committed together: as soon as half of ``concurrency`` are waiting, else
    ``flush_every`` seconds after the first one finished.
    """
    report = DrainReport()
    gate = asyncio.Semaphore(concurrency)
    outcomes: list[Sent | Retry] = []
    ready = asyncio.Event()
    full = asyncio.Event()
    finished = False
    prepare = getattr(notifier, "prepare", None)
    interval_of = getattr(notifier, "chat_interval", None)
    holds = FloodHolds()
    gather_at = max(1, concurrency // 2)

    async def one(msg: OutboxMessage) -> None:
        outcomes.append(await _deliver(notifier, msg, clock, report, max_attempts,
                                       on_undeliverable, holds))
        ready.set()
        if len(outcomes) >= gather_at:
            full.set()

    async def later(msg: OutboxMessage) -> None:
        """A row behind an earlier message to its chat: sleep to its slot, then go."""
        await asyncio.sleep(msg.wait)
        floods = await asyncio.to_thread(flood_waits, store, [msg.chat_id])
        now = clock()
        for chat, until in floods.items():
            if until > now:
                holds.add(msg.chat_id, "all" if chat == FloodHolds.ALL else "chat", now, until,
                          escalate=False)
        await gate.acquire()
        await one(msg)

    async def producer() -> None:
        nonlocal finished
        tasks: list[asyncio.Task[None]] = []
        try:
            while True:
                claimed = await asyncio.to_thread(claim_outbox, store, owner, clock(), lease,
                                                  batch, interval_of=interval_of)
                if claimed and prepare is not None:
                    await prepare(claimed)
                for msg in claimed:
                    if msg.wait > 0:
                        tasks.append(asyncio.create_task(later(msg)))
                        continue
                    await gate.acquire()
                    tasks.append(asyncio.create_task(one(msg)))
                tasks = [t for t in tasks if not t.done()]
                if len(claimed) < batch:
                    return
        finally:
            await asyncio.gather(*tasks, return_exceptions=True)
            finished = True
            ready.set()

    async def writer() -> None:
        while True:
            if not outcomes:
                if finished:
                    return
                ready.clear()
                await ready.wait()
                continue
            if len(outcomes) < gather_at and not finished:
                full.clear()  # let a few more finish (or the time pass): one commit for all
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(full.wait(), flush_every)
            taken = outcomes[:]
            outcomes.clear()
            await asyncio.to_thread(
                record_outcomes, store, clock(),
                [o for o in taken if isinstance(o, Sent)],
                [o for o in taken if isinstance(o, Retry)])
            for _ in taken:
                gate.release()

    producing = asyncio.create_task(producer())
    writing = asyncio.create_task(writer())
    await asyncio.wait({producing, writing}, return_when=asyncio.FIRST_EXCEPTION)
    if writing.done() and writing.exception() is not None:
        producing.cancel()
        await asyncio.gather(producing, return_exceptions=True)
        await writing  # raises the writer's error
    await writing
    await producing  # raises a claim error, after what was delivered is recorded
    return report


async def _deliver(
    notifier: Notifier, msg: OutboxMessage, clock: Callable[[], datetime],
    report: DrainReport, max_attempts: int, on_undeliverable: Callable[[str], None] | None,
    holds: FloodHolds,
) -> Sent | Retry:
    """Deliver one message and turn the result into an outcome (see the module docstring)."""
    held = holds.held(msg.chat_id, clock())
    if held is not None:  # a flood wait began after this row was claimed
        report.retried += 1
        return Retry(msg.id, "held by a flood wait", held, counts=False)
    try:
        message_id = await notifier.deliver(msg)
    except RetryLater as exc:
        report.retried += 1
        now = clock()
        until = now + timedelta(seconds=exc.after_seconds)
        if exc.flood is None:
            return Retry(msg.id, str(exc), until, counts=False)
        key = holds.add(msg.chat_id, exc.flood, now, until)
        log.warning("flood_wait", extra={"chat_id": msg.chat_id, "outbox_id": msg.id,
                                         "retry_after": exc.after_seconds,
                                         "scope": "all" if key == FloodHolds.ALL else "chat"})
        return Retry(msg.id, str(exc), holds.until[key], flood=key, counts=False)
    except Unconfirmed as exc:
        log.error("delivery_unconfirmed", extra={"chat_id": msg.chat_id, "outbox_id": msg.id,
                                                 "error": str(exc)})
        report.sent += 1
        report.unconfirmed += 1
        return Sent(msg.id, None, _outlets(msg), note=f"delivered-unconfirmed: {exc}")
    except Undeliverable as exc:
        log.warning("undeliverable", extra={"chat_id": msg.chat_id, "outbox_id": msg.id,
                                            "error": str(exc)})
        report.failed += 1
        if on_undeliverable is not None:
            on_undeliverable(msg.chat_id)
        return Retry(msg.id, str(exc), clock(), give_up=True)
    except Rejected as exc:
        log.error("delivery_rejected", extra={"chat_id": msg.chat_id, "outbox_id": msg.id,
                                              "error": str(exc)})
        report.failed += 1
        return Retry(msg.id, str(exc), clock(), give_up=True)
    except Exception as exc:  # DeliveryError, or a bug in one message: back off, go on
        if not isinstance(exc, DeliveryError):
            log.exception("notifier_error", extra={"chat_id": msg.chat_id, "outbox_id": msg.id})
        give_up = msg.attempts + 1 >= max_attempts
        delay = min(3600.0, 2.0 ** (msg.attempts + 1))
        if give_up:
            log.error("delivery_failed", extra={"chat_id": msg.chat_id, "outbox_id": msg.id,
                                                "error": str(exc)})
            report.failed += 1
        else:
            report.retried += 1
        return Retry(msg.id, f"{type(exc).__name__}: {exc}",
                     clock() + timedelta(seconds=delay), give_up)
    report.sent += 1
    return Sent(msg.id, message_id, _outlets(msg))


def _outlets(msg: OutboxMessage) -> int:
    """What the message shows as "reported by N outlets": distinct outlets of its sources."""
    return len({s.outlet for s in msg.sources})
