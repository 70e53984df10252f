"""Metrics fed from the daemon's own reports and from a wrapped notifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.alerts.outbox import DrainReport
from tracker.model import SourceView
from tracker.ops.instrument import MeteredNotifier, alert_latency, observe_cycle, observe_drain
from tracker.ops.metrics import Metrics
from tracker.pipeline import CycleReport, FeedReport
from tracker.store.repo import OutboxMessage

NOW = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)


def _value(m: Metrics, name: str, **labels: str) -> float:
    value = m.registry.get_sample_value(name, labels or None)
    return 0.0 if value is None else value


def _message(kind: str = "alert", *published: datetime | None) -> OutboxMessage:
    sources = tuple(SourceView("outlet", None, p, NOW) for p in published)
    return OutboxMessage(1, "42", kind, None, 0, None, sources, None)


def test_observe_cycle_reads_a_pipeline_cycle_report() -> None:
    """Each feed of a cycle report counts as a poll by result, errors by kind, and new items."""
    report = CycleReport([
        FeedReport(1, "a", "https://a/", status="ok", new_items=3),
        FeedReport(2, "b", "https://b/", status="not_modified"),
        FeedReport(3, "c", "https://c/", status="error", error="boom", error_kind="http_500"),
    ])
    m = Metrics()
    observe_cycle(m, report, NOW)
    assert _value(m, "tracker_polls_total", result="ok") == 1
    assert _value(m, "tracker_polls_total", result="not_modified") == 1
    assert _value(m, "tracker_fetch_errors_total", kind="http_500") == 1
    assert _value(m, "tracker_items_total") == 3
    assert _value(m, "tracker_last_cycle_timestamp_seconds") == NOW.timestamp()


def test_observe_cycle_counts_event_types_when_the_report_lists_them() -> None:
    """A feed report carrying event_types adds one event per listed type."""
    feed = FeedReport(1, "a", "https://a/", status="ok", new_items=1, events=3)
    feed.event_types = ["export_permit", "export_permit", "chip_launch"]  # type: ignore[attr-defined]
    m = Metrics()
    observe_cycle(m, CycleReport([feed]), NOW)
    assert _value(m, "tracker_events_total", type="export_permit") == 2
    assert _value(m, "tracker_events_total", type="chip_launch") == 1


def test_observe_drain_counts_given_up_messages() -> None:
    """A drain's failed count is added to alerts_failed_total; retries are not failures."""
    m = Metrics()
    observe_drain(m, DrainReport(sent=5, retried=2, failed=1))
    observe_drain(m, DrainReport())
    assert _value(m, "tracker_alerts_failed_total") == 1


def test_alert_latency_uses_the_earliest_publication() -> None:
    """Latency runs from the earliest dated source; undated alerts and digests have none."""
    msg = _message("alert", NOW - timedelta(minutes=10), None, NOW - timedelta(minutes=3))
    assert alert_latency(msg, NOW) == 600
    assert alert_latency(_message("alert", None), NOW) is None
    assert alert_latency(_message("digest", NOW - timedelta(hours=1)), NOW) is None


class _Inner:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.prepared: list[object] = []

    async def prepare(self, messages: list[object]) -> None:
        self.prepared.extend(messages)

    async def deliver(self, message: object) -> str | None:
        if self.fail:
            raise RuntimeError("telegram down")
        return "m1"


async def test_metered_notifier_counts_deliveries_with_latency() -> None:
    """A delivered alert is counted with its latency; a failed one raises through uncounted."""
    m = Metrics()
    inner = _Inner()
    notifier = MeteredNotifier(inner, m, lambda: NOW)
    msg = _message("alert", NOW - timedelta(seconds=90))
    await notifier.prepare([msg])
    assert inner.prepared == [msg]
    assert await notifier.deliver(msg) == "m1"
    assert _value(m, "tracker_alerts_sent_total") == 1
    assert _value(m, "tracker_alert_latency_seconds_bucket", le="120.0") == 1
    with pytest.raises(RuntimeError):
        await MeteredNotifier(_Inner(fail=True), m, lambda: NOW).deliver(msg)
    assert _value(m, "tracker_alerts_sent_total") == 1


async def test_metered_notifier_prepare_is_optional() -> None:
    """Wrapping a notifier without prepare() is fine."""
    class Plain:
        async def deliver(self, message: object) -> str | None:
            return None
    await MeteredNotifier(Plain(), Metrics(), lambda: NOW).prepare([])
