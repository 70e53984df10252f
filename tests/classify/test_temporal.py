"""The temporal tagger, table-driven from tests/data/temporal/cases.jsonl."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tracker.classify.temporal import find_dates
from tracker.text.normalize import match_key

CASES = Path(__file__).resolve().parents[1] / "data" / "temporal" / "cases.jsonl"


def _cases() -> list[Any]:
    lines = CASES.read_text(encoding="utf-8").splitlines()
    return [pytest.param(c, id=c["id"]) for c in map(json.loads, filter(str.strip, lines))]


@pytest.mark.parametrize("case", _cases())
def test_date_expression(case: dict[str, Any]) -> None:
    """The first date expression resolves to the expected value and precision."""
    pub = (datetime.fromisoformat(case["published"]).replace(hour=12, tzinfo=UTC)
           if case["published"] else None)
    found = find_dates(match_key(case["text"]), pub, forward=case.get("forward", False))
    if case["value"] is None:
        assert found == [], case["why"]
        return
    assert found, case["why"]
    assert (found[0].date.value, found[0].date.precision) == (
        case["value"], case["precision"]), case["why"]
