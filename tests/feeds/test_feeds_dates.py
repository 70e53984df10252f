"""parse_date: the date formats of Arabic feeds, to aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import pytest

from tracker.feeds.dates import install_date_handlers, parse_date, resolve_timezone

# (string, default zone, expected UTC or None)
CASES = [
    ("الأحد، ٢٤ أغسطس ٢٠٢٥ ١٠:٣٠ GMT+3", None, datetime(2025, 8, 24, 7, 30)),
    ("24 آب 2025 10:30 ص", "Asia/Riyadh", datetime(2025, 8, 24, 7, 30)),
    ("24 آب 2025 10:30 م", "Asia/Riyadh", datetime(2025, 8, 24, 19, 30)),
    ("24 آب 2025 12:05 ص", None, datetime(2025, 8, 24, 0, 5)),
    ("الاثنين 25 جويلية 2025 14:00 AST", None, datetime(2025, 7, 25, 11, 0)),
    ("Sun, 24 Aug 2025 10:30:00 AST", None, datetime(2025, 8, 24, 7, 30)),
    ("Sun, 24 Aug 2025 10:30:00 +0300", None, datetime(2025, 8, 24, 7, 30)),
    ("Sun, 24 Aug 2025 10:30:00 GMT", "Asia/Riyadh", datetime(2025, 8, 24, 10, 30)),
    ("Sun, 24 Aug 2025 10:30:00 EDT", None, datetime(2025, 8, 24, 14, 30)),
    ("Sun, 24 Aug 2025 10:30:00", "Asia/Riyadh", datetime(2025, 8, 24, 7, 30)),
    ("24 Aug 25 10:30 +0000", None, datetime(2025, 8, 24, 10, 30)),
    ("2025-08-24T10:30:00+03:00", None, datetime(2025, 8, 24, 7, 30)),
    ("2025-08-24T10:30:00Z", "Asia/Riyadh", datetime(2025, 8, 24, 10, 30)),
    ("2025-08-24 10:30", "Africa/Cairo", datetime(2025, 8, 24, 7, 30)),
    ("٢٠٢٥-٠٨-٢٤T١٠:٣٠:٠٠+٠٣:٠٠", None, datetime(2025, 8, 24, 7, 30)),
    ("24 كانون الأول 2025 09:00", "+03:00", datetime(2025, 12, 24, 6, 0)),
    ("الخميس 3 تشرين الثاني 2025 - 12:15 م", None, datetime(2025, 11, 3, 12, 15)),
    ("1 كانون الثاني 2025", None, datetime(2025, 1, 1)),
    ("5 تشرين الاول 2025 08:00", None, datetime(2025, 10, 5, 8, 0)),
    ("الأربعاء 2 أبريل 2025 - 08:00 مساءً", None, datetime(2025, 4, 2, 20, 0)),
    ("2 ابريل 2025", None, datetime(2025, 4, 2)),
    ("15 يونيه 2025 UTC+02:00", None, datetime(2025, 6, 14, 22, 0)),
    ("15 جوان 2025 10:00 +0100", None, datetime(2025, 6, 15, 9, 0)),
    ("7 أوت 2025 10:00", None, datetime(2025, 8, 7, 10, 0)),
    ("7 غشت 2025", None, datetime(2025, 8, 7)),
    ("1 شباط 2025", None, datetime(2025, 2, 1)),
    ("1 أيار 2025", None, datetime(2025, 5, 1)),
    ("1 ماي 2025", None, datetime(2025, 5, 1)),
    ("24/08/2025 10:30 +0300", None, datetime(2025, 8, 24, 7, 30)),
    ("2025/08/24 10:30 بتوقيت غرينتش", None, datetime(2025, 8, 24, 10, 30)),
    ("الأحد 24 أغسطس 2025م 10:30 م", None, datetime(2025, 8, 24, 22, 30)),
    ("الأحد ٢٤ أغسطس ٢٠٢٥ م - ١٠:٣٠ ص", None, datetime(2025, 8, 24, 10, 30)),
    ("الأحد 1 ربيع الأول 1447 هـ - 24 أغسطس 2025 م", None, datetime(2025, 8, 24)),
    ("الأحد 24 أغسطس 2025 م الموافق 1 ربيع الأول 1447 هـ", None, datetime(2025, 8, 24)),
    ("August 24, 2025 10:30 PM", "Asia/Riyadh", datetime(2025, 8, 24, 19, 30)),
    ("", None, None),
    ("قريباً", None, None),
    ("31 فبراير 2025", None, None),
    ("24 أغسطس", None, None),
    ("Sun, 24 Aug 1800 10:30:00 GMT", None, None),
]


@pytest.mark.parametrize(("value", "zone", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_parse_date(value: str, zone: str | None, expected: datetime | None) -> None:
    """Each feed date string gives the expected UTC instant, or None when unreadable."""
    result = parse_date(value, zone)
    assert result == (expected.replace(tzinfo=UTC) if expected else None)
    if result is not None:
        assert result.tzinfo is UTC


def test_resolve_timezone_accepts_names_and_offsets() -> None:
    """Zones are IANA names or fixed offsets; anything else is a ValueError."""
    assert resolve_timezone(None) is UTC
    assert resolve_timezone("+03:00").utcoffset(None).total_seconds() == 3 * 3600  # type: ignore[union-attr]
    assert str(resolve_timezone("Asia/Riyadh")) == "Asia/Riyadh"
    with pytest.raises(ValueError):
        resolve_timezone("Arabia/Somewhere")


def test_installed_handler_beats_feedparser_on_ast() -> None:
    """Once installed, feedparser's own *_parsed reads AST as +3 too (idempotently)."""
    install_date_handlers()
    install_date_handlers()
    body = (
        b"<rss version='2.0'><channel><item><pubDate>Sun, 24 Aug 2025 10:30:00 AST</pubDate>"
        b"</item></channel></rss>"
    )
    parsed = feedparser.parse(body).entries[0].published_parsed
    assert tuple(parsed[:5]) == (2025, 8, 24, 7, 30)
