"""Alerts date an undated event in scheduler.timezone, the zone exports and the desk use."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.alerts.render import alert_html, alert_text
from tracker.model import EventDate, TimelineEvent


class Labels:
    def labels(self, type_id: str, lang: str) -> str:
        return type_id

    def entity_label(self, entity_id: str, lang: str) -> str:
        return entity_id


def _event(date: EventDate | None) -> TimelineEvent:
    when = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # Monday 01:30 in Riyadh
    return TimelineEvent(1, "chip_launch", "h", (), date, when, "reported", when, "o", 1,
                         False, ())


def test_undated_event_is_dated_in_the_scheduler_zone() -> None:
    """22:30 UTC on 6 Dec is 7 Dec in Riyadh: the alert says 2026-12-07, like the export."""
    ev = _event(None)
    assert "2026-12-07" in alert_text(ev, (), Labels(), "en", tz="Asia/Riyadh")
    assert "2026-12-07" in alert_html(ev, (), Labels(), "ar", tz="Asia/Riyadh")
    assert "2026-12-06" in alert_text(ev, (), Labels(), "en")  # UTC when no zone is given


def test_a_text_date_is_never_shifted() -> None:
    """A date the text gave stays as written, whatever the zone."""
    ev = _event(EventDate("2026-07", "month"))
    assert "2026-07" in alert_text(ev, (), Labels(), "en", tz="Pacific/Kiritimati")


def test_the_digest_dates_an_undated_event_in_the_scheduler_zone() -> None:
    """The Telegram digest files the same event under 7 Dec, like the alert and the export."""
    from tracker.telegram.digest import build_digest

    text = build_digest([_event(None)], Labels(), "en", tz="Asia/Riyadh")
    assert "(2026-12-07)" in text
