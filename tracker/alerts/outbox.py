"""The outbox drain: claim due messages, hand them to a notifier, record the outcome.

A message is marked sent only after the notifier returned, so a crash between the two can
repeat at most the messages in flight; nothing is ever lost. "In flight" is bounded by
``concurrency``: a slot is taken before a message is handed to the notifier and given back
only once its outcome is committed, so outcomes can be recorded in batches (one transaction
for many rows) without widening the window a crash can repeat.

Outcomes, in order:
1. the notifier returns: the row is marked sent (with the message id, for later edits);
2. it raises :class:`RetryLater`: the row goes back to pending, due after the given delay;
3. it raises :class:`Undeliverable`: the row is marked failed at once (and the caller may
   deactivate the chat);
4. it raises :class:`Rejected`: the message itself was refused (e.g. malformed HTML); the row
   is marked failed at once and logged for the operator; the chat stays active;
5. anything else derived from :class:`~tracker.errors.DeliveryError` (or an unexpected
   exception in the notifier, logged with its traceback): retried with exponential backoff
   until ``max_attempts``, then marked failed and logged for the operator.

The drain claims the next batch while the previous one is still being delivered, and stops
when a claim comes back short (nothing more is due). A notifier with a ``prepare`` method
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
from tracker.store.repo import OutboxMessage, Store
from tracker.store.subscribers import Retry, Sent, claim_outbox, record_outcomes

log = logging.getLogger(__name__)


class RetryLater(DeliveryError):
    """The receiver asked us to wait (flood control) or is temporarily down."""

    def __init__(self, message: str, after_seconds: float) -> None:
        super().__init__(message)
        self.after_seconds = after_seconds


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


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


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
    gather_at = max(1, concurrency // 2)

    async def one(msg: OutboxMessage) -> None:
        outcomes.append(await _deliver(notifier, msg, clock, report, max_attempts,
                                       on_undeliverable))
        ready.set()
        if len(outcomes) >= gather_at:
            full.set()

    async def producer() -> None:
        nonlocal finished
        tasks: list[asyncio.Task[None]] = []
        try:
            while True:
                claimed = await asyncio.to_thread(claim_outbox, store, owner, clock(), lease,
                                                  batch)
                if claimed and prepare is not None:
                    await prepare(claimed)
                for msg in claimed:
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
) -> Sent | Retry:
    """Deliver one message and turn the result into an outcome (see the module docstring)."""
    try:
        message_id = await notifier.deliver(msg)
    except RetryLater as exc:
        report.retried += 1
        return Retry(msg.id, str(exc), clock() + timedelta(seconds=exc.after_seconds))
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
    return Sent(msg.id, message_id, len(msg.sources))
