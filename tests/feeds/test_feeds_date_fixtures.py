"""Publication-date cases, one fixture file per case in tests/data/feeds/dates/.

Each fixture: ``input`` (the feed's date string), ``timezone`` (the feed's configured zone),
``expected`` (ISO 8601 UTC, or null when the date must be refused) and ``why``. Adding a case
needs no code.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tracker.feeds.dates import parse_date

CASES = sorted((Path(__file__).parents[1] / "data" / "feeds" / "dates").glob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_date_fixture(path: Path) -> None:
    """The date string gives the expected UTC instant, or None rather than a wrong one."""
    case = json.loads(path.read_text(encoding="utf-8"))
    result = parse_date(case["input"], case["timezone"])
    expected = datetime.fromisoformat(case["expected"]) if case["expected"] else None
    assert result == expected, case["why"]


def test_parse_date_never_raises() -> None:
    """Hostile strings (huge numbers, absurd offsets, control bytes) give None, never raise."""
    hostile = ["9" * 500, "Sun, 31 Dec 9999 23:59:59 +9999", "-99:99", "UTC+99", "\x00\x1b[2J",
               "2025-99-99T99:99:99+99:99", "1e308", "Sun, 00 Xyz 0000 00:00:00 -0000",
               "99/99/99999 99:99", "GMT-25 1 يناير 2025", "Mon, 1 Jan 2025 25:61:61 GMT"]
    for value in hostile:
        assert parse_date(value, "Asia/Riyadh") is None, value
