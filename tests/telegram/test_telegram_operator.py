"""The operators' /stats and /feeds texts: stored strings escaped, failing feeds first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.support.botapi import parse_html
from tracker.telegram.operator import feeds_text, stats_text

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Feed:
    name: str
    consecutive_failures: int
    last_success_at: datetime | None
    last_error: str | None


def test_feeds_list_failing_first_then_the_stalest_and_escape_names() -> None:
    """A failing feed leads (with its error), then the one longest without a success;
    a feed name or error with <, & stays text in valid Telegram HTML."""
    text = feeds_text([Feed("fresh", 0, NOW - timedelta(minutes=5), None),
                       Feed("stale <b>&", 0, NOW - timedelta(minutes=90), None),
                       Feed("down", 3, None, "HTTP 503 <html>")], NOW)
    lines = text.splitlines()
    assert lines[1].startswith("❌ down: failures 3, last success never — HTTP 503 &lt;html&gt;")
    assert lines[2] == "✅ stale &lt;b&gt;&amp;: failures 0, last success 90m ago"
    assert lines[3].startswith("✅ fresh")
    parse_html(text)


def test_stats_show_counts_and_the_rows_that_failed_for_good() -> None:
    """Counts as key: value lines, then failed rows with their (escaped, cut) error."""
    text = stats_text([("outbox delivered_unconfirmed", "1")],
                      [(7, "42", "alert", "bad request: <x> " + "e" * 300)])
    assert "outbox delivered_unconfirmed: 1" in text
    assert "#7 chat 42 alert: bad request: &lt;x&gt;" in text and "e" * 201 not in text
    parse_html(text)
