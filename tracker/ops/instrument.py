"""Feeding :class:`~tracker.ops.metrics.Metrics` from what the daemon already has.

Duck-typed on purpose (``Protocol``s, no import of the pipeline, the outbox or the store):

- :func:`observe_cycle` reads a pipeline ``CycleReport`` (polls by result, errors by kind,
  new items, events by type when a ``FeedReport`` lists them in ``event_types``, the
  cycle's time);
- :class:`MeteredNotifier` wraps the notifier the outbox drain uses and records each
  delivered alert with the time since its earliest source's publication;
- :func:`observe_drain` counts the messages a drain gave up on (``DrainReport.failed``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from tracker.ops.metrics import Metrics


class _FeedReport(Protocol):
    status: str
    error_kind: str | None
    new_items: int


class _CycleReport(Protocol):
    @property
    def feeds(self) -> Sequence[_FeedReport]: ...


class _DrainReport(Protocol):
    failed: int


class _Source(Protocol):
    @property
    def published(self) -> datetime | None: ...


class _Message(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def sources(self) -> Sequence[_Source]: ...


class _Notifier(Protocol):
    async def deliver(self, message: Any) -> str | None: ...


def observe_cycle(metrics: Metrics, report: _CycleReport, finished_at: datetime) -> None:
    """Record one poll cycle: each feed's result (and error kind), its new items and the
    types of its events (``FeedReport.event_types``, a sequence of type names, if present)."""
    for feed in report.feeds:
        metrics.observe_poll(feed.status, feed.error_kind)
        metrics.observe_items(feed.new_items)
        for event_type in getattr(feed, "event_types", ()):
            metrics.observe_event(str(event_type))
    metrics.observe_cycle(finished_at.timestamp())


def observe_drain(metrics: Metrics, report: _DrainReport) -> None:
    """Record the messages an outbox drain gave up on."""
    if report.failed:
        metrics.observe_failed(report.failed)


def alert_latency(message: _Message, delivered_at: datetime) -> float | None:
    """Seconds from the earliest known publication among the alert's sources to delivery."""
    if message.kind != "alert":
        return None
    published = [s.published for s in message.sources if s.published is not None]
    return (delivered_at - min(published)).total_seconds() if published else None


class MeteredNotifier:
    """A notifier that counts what the wrapped one delivered, with its latency."""

    def __init__(self, inner: _Notifier, metrics: Metrics,
                 clock: Callable[[], datetime]) -> None:
        self.inner = inner
        self.metrics = metrics
        self.clock = clock

    async def prepare(self, messages: Sequence[Any]) -> None:
        prepare = getattr(self.inner, "prepare", None)
        if prepare is not None:
            await prepare(messages)

    async def deliver(self, message: Any) -> str | None:
        result = await self.inner.deliver(message)
        self.metrics.observe_sent(alert_latency(message, self.clock()))
        return result
