"""The outbox drain: claim due messages, hand them to a notifier, record the outcome.

A message is marked sent only after the notifier returned, so a crash between the two can
repeat at most the messages in flight; nothing is ever lost. Outcomes, in order:
1. the notifier returns: the row is marked sent (with the message id, for later edits);
2. it raises :class:`RetryLater`: the row goes back to pending, due after the given delay;
3. it raises :class:`Undeliverable`: the row is marked failed at once (and the caller may
   deactivate the chat);
4. anything else derived from :class:`~tracker.errors.DeliveryError`: retried with
   exponential backoff until ``max_attempts``, then marked failed and logged for the operator.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tracker.errors import DeliveryError
from tracker.store.repo import OutboxMessage, Store

log = logging.getLogger(__name__)


class RetryLater(DeliveryError):
    """The receiver asked us to wait (flood control) or is temporarily down."""

    def __init__(self, message: str, after_seconds: float) -> None:
        super().__init__(message)
        self.after_seconds = after_seconds


class Undeliverable(DeliveryError):
    """The chat cannot receive messages (blocked the bot, does not exist)."""


class Notifier(Protocol):
    """Delivers one outbox message; returns the delivered message id, if any."""

    async def deliver(self, message: OutboxMessage) -> str | None: ...


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
    lease: timedelta = timedelta(minutes=2),
    max_attempts: int = 8,
    on_undeliverable: Callable[[str], None] | None = None,
) -> DrainReport:
    """Send every due message once; returns counts. Stops when nothing is due."""
    report = DrainReport()
    gate = asyncio.Semaphore(concurrency)

    async def one(msg: OutboxMessage) -> None:
        async with gate:
            try:
                message_id = await notifier.deliver(msg)
            except RetryLater as exc:
                await asyncio.to_thread(
                    store.mark_retry, msg.id, str(exc),
                    clock() + timedelta(seconds=exc.after_seconds))
                report.retried += 1
            except Undeliverable as exc:
                log.warning("undeliverable", extra={"chat_id": msg.chat_id, "error": str(exc)})
                await asyncio.to_thread(store.mark_retry, msg.id, str(exc), clock(), True)
                report.failed += 1
                if on_undeliverable is not None:
                    on_undeliverable(msg.chat_id)
            except DeliveryError as exc:
                give_up = msg.attempts + 1 >= max_attempts
                delay = min(3600.0, 2.0 ** (msg.attempts + 1))
                await asyncio.to_thread(store.mark_retry, msg.id, str(exc),
                                        clock() + timedelta(seconds=delay), give_up)
                if give_up:
                    log.error("delivery_failed", extra={"chat_id": msg.chat_id,
                                                        "outbox_id": msg.id, "error": str(exc)})
                    report.failed += 1
                else:
                    report.retried += 1
            else:
                await asyncio.to_thread(store.mark_sent, msg.id, owner, clock(), message_id)
                report.sent += 1

    while True:
        claimed = await asyncio.to_thread(store.claim_outbox, owner, clock(), lease, batch)
        if not claimed:
            return report
        await asyncio.gather(*(one(m) for m in claimed))
        if len(claimed) < batch:
            return report
