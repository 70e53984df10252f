"""Prometheus metrics of one tracker process, in a registry of its own.

Nothing is registered at import time and the global default registry is never touched: each
:class:`Metrics` owns a :class:`~prometheus_client.CollectorRegistry`, so tests (and several
daemons in one process) never collide. The daemon calls the ``observe_*`` methods; the health
server calls :meth:`Metrics.render` for ``GET /metrics``.

Exposed series (prefix ``tracker_``)::

    polls_total{result}                 ok | not_modified | error | throttled (429 wait) |
                                        gone (410, feed retired)
    fetch_errors_total{kind}            timeout, http_500, too_large, parse, network, …
    items_total                         new items stored
    events_total{type}                  events recognised, by event type
    alerts_sent_total / alerts_failed_total
    outbox_depth                        messages waiting (gauge)
    alert_latency_seconds               publication of an item → delivery of its alert
    last_cycle_timestamp_seconds        Unix time of the last finished poll cycle
    build_info{version}                 always 1
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

POLL_RESULTS = ("ok", "not_modified", "error", "throttled", "gone")

#: From 30 seconds (a fast feed and an idle outbox) to 2 days (past ``alerts.max_age``).
LATENCY_BUCKETS = (
    30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 43200.0,
    86400.0, 172800.0,
)


class Metrics:
    """The counters, gauges and histogram of one process, and their text exposition."""

    def __init__(self, version: str = "", namespace: str = "tracker") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r, ns = self.registry, namespace
        self.polls = Counter("polls", "Feed polls by result", ["result"],
                             namespace=ns, registry=r)
        self.fetch_errors = Counter("fetch_errors", "Failed polls by reason", ["kind"],
                                    namespace=ns, registry=r)
        self.items = Counter("items", "New items stored", namespace=ns, registry=r)
        self.events = Counter("events", "Events recognised, by event type", ["type"],
                              namespace=ns, registry=r)
        self.alerts_sent = Counter("alerts_sent", "Alerts delivered", namespace=ns, registry=r)
        self.alerts_failed = Counter("alerts_failed", "Alert deliveries that failed",
                                     namespace=ns, registry=r)
        self.outbox_depth = Gauge("outbox_depth", "Alerts waiting in the outbox",
                                  namespace=ns, registry=r)
        self.alert_latency = Histogram(
            "alert_latency_seconds",
            "Seconds from an item's publication to the delivery of its alert",
            buckets=LATENCY_BUCKETS, namespace=ns, registry=r)
        self.last_cycle = Gauge("last_cycle_timestamp_seconds",
                                "Unix time of the last finished poll cycle",
                                namespace=ns, registry=r)
        build = Gauge("build_info", "tracker version", ["version"], namespace=ns, registry=r)
        build.labels(version=version or "unknown").set(1)
        for result in POLL_RESULTS:
            self.polls.labels(result=result)

    def observe_poll(self, result: str, error_kind: str | None = None) -> None:
        """One feed polled: ``ok``, ``not_modified``, ``error`` (with its ``kind``),
        ``throttled`` or ``gone``."""
        if result not in POLL_RESULTS:
            raise ValueError(f"poll result must be one of {', '.join(POLL_RESULTS)}: {result!r}")
        self.polls.labels(result=result).inc()
        if result in ("error", "throttled", "gone"):
            self.fetch_errors.labels(kind=error_kind or "unknown").inc()

    def observe_items(self, n: int) -> None:
        """``n`` new items were stored."""
        if n:
            self.items.inc(n)

    def observe_event(self, event_type: str, n: int = 1) -> None:
        """``n`` events of ``event_type`` were recognised."""
        self.events.labels(type=event_type).inc(n)

    def observe_sent(self, latency_seconds: float | None = None) -> None:
        """An alert was delivered; ``latency_seconds`` since its item's publication, if known."""
        self.alerts_sent.inc()
        if latency_seconds is not None:
            self.alert_latency.observe(max(0.0, latency_seconds))

    def observe_failed(self, n: int = 1) -> None:
        """``n`` alerts could not be delivered (given up on)."""
        self.alerts_failed.inc(n)

    def observe_cycle(self, unix_time: float) -> None:
        """A poll cycle finished at ``unix_time`` (seconds since the epoch)."""
        self.last_cycle.set(unix_time)

    def set_outbox_depth(self, n: int) -> None:
        """The outbox holds ``n`` messages now."""
        self.outbox_depth.set(n)

    def track_outbox_depth(self, depth: Callable[[], float]) -> None:
        """Read the outbox depth from ``depth`` at every scrape (must be fast and sync)."""
        self.outbox_depth.set_function(depth)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
