"""Metrics: own registry, the series the daemon feeds, and their text exposition."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tracker.ops.metrics import LATENCY_BUCKETS, Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text, _ = metrics.render()
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_two_instances_do_not_share_or_touch_the_default_registry() -> None:
    """Each Metrics has its own registry, so two can coexist and the global one stays clean."""
    a, b = Metrics(), Metrics()
    a.observe_items(3)
    assert _samples(a)[("tracker_items_total", ())] == 3
    assert _samples(b)[("tracker_items_total", ())] == 0
    assert REGISTRY.get_sample_value("tracker_items_total") is None


def test_polls_are_counted_by_result_and_errors_by_kind() -> None:
    """observe_poll counts every result and, for errors, the reason kind."""
    m = Metrics()
    m.observe_poll("ok")
    m.observe_poll("not_modified")
    m.observe_poll("error", "timeout")
    m.observe_poll("error", "http_500")
    m.observe_poll("error", "timeout")
    s = _samples(m)
    assert s[("tracker_polls_total", (("result", "ok"),))] == 1
    assert s[("tracker_polls_total", (("result", "not_modified"),))] == 1
    assert s[("tracker_polls_total", (("result", "error"),))] == 3
    assert s[("tracker_fetch_errors_total", (("kind", "timeout"),))] == 2
    assert s[("tracker_fetch_errors_total", (("kind", "http_500"),))] == 1


def test_unknown_poll_result_is_refused() -> None:
    """A poll result outside ok/not_modified/error/throttled/gone is a programming error."""
    with pytest.raises(ValueError, match="poll result"):
        Metrics().observe_poll("maybe")


def test_poll_results_are_exposed_at_zero_before_any_poll() -> None:
    """Every poll result appears from the start, so rate() works from the first scrape."""
    s = _samples(Metrics())
    for result in ("ok", "not_modified", "error", "throttled", "gone"):
        assert s[("tracker_polls_total", (("result", result),))] == 0


def test_events_alerts_and_outbox_depth() -> None:
    """Events by type, alerts sent and failed, and the outbox gauge are exposed."""
    m = Metrics(version="9.9")
    m.observe_event("export_permit")
    m.observe_event("export_permit")
    m.observe_event("chip_launch")
    m.observe_sent(None)
    m.observe_failed()
    m.set_outbox_depth(7)
    m.observe_cycle(1_700_000_000.0)
    s = _samples(m)
    assert s[("tracker_events_total", (("type", "export_permit"),))] == 2
    assert s[("tracker_events_total", (("type", "chip_launch"),))] == 1
    assert s[("tracker_alerts_sent_total", ())] == 1
    assert s[("tracker_alerts_failed_total", ())] == 1
    assert s[("tracker_outbox_depth", ())] == 7
    assert s[("tracker_last_cycle_timestamp_seconds", ())] == 1_700_000_000.0
    assert s[("tracker_build_info", (("version", "9.9"),))] == 1


def test_outbox_depth_can_be_read_at_scrape_time() -> None:
    """track_outbox_depth reads the depth from a callback at every render."""
    m = Metrics()
    depth = [4]
    m.track_outbox_depth(lambda: depth[0])
    assert _samples(m)[("tracker_outbox_depth", ())] == 4
    depth[0] = 0
    assert _samples(m)[("tracker_outbox_depth", ())] == 0


def test_alert_latency_histogram_buckets_span_30s_to_2_days() -> None:
    """Latencies land in buckets from 30 s to 2 days; a delivery without latency adds none."""
    assert LATENCY_BUCKETS[0] == 30 and LATENCY_BUCKETS[-1] == 2 * 86400
    m = Metrics()
    m.observe_sent(45.0)
    m.observe_sent(3 * 86400.0)
    m.observe_sent(None)
    s = _samples(m)
    assert s[("tracker_alert_latency_seconds_count", ())] == 2
    assert s[("tracker_alert_latency_seconds_bucket", (("le", "30.0"),))] == 0
    assert s[("tracker_alert_latency_seconds_bucket", (("le", "60.0"),))] == 1
    assert s[("tracker_alert_latency_seconds_bucket", (("le", "172800.0"),))] == 1
    assert s[("tracker_alert_latency_seconds_bucket", (("le", "+Inf"),))] == 2


def test_render_returns_the_prometheus_text_content_type() -> None:
    """render gives bytes and the text exposition content type."""
    body, content_type = Metrics().render()
    assert isinstance(body, bytes) and b"# TYPE tracker_polls_total counter" in body
    assert content_type.startswith("text/plain; version=")
