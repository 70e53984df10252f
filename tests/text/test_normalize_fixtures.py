"""Two-layer normalisation, table-driven: one fixture file per case in tests/data/normalize.

Each fixture: ``input``, optional ``display`` (expected display_text), optional ``match_key``
(expected match_key of the display text) and ``why``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracker.text.normalize import display_text, match_key

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "normalize"


def _fixtures() -> list[Any]:
    return [pytest.param(json.loads(p.read_text(encoding="utf-8")), id=p.stem)
            for p in sorted(FIXTURES.glob("*.json"))]


@pytest.mark.parametrize("case", _fixtures())
def test_normalisation_fixture(case: dict[str, str]) -> None:
    """Display text and match key are what the fixture expects, and both are idempotent."""
    shown = display_text(case["input"])
    if "display" in case:
        assert shown == case["display"], case["why"]
    key = match_key(shown)
    if "match_key" in case:
        assert key == case["match_key"], case["why"]
    assert display_text(shown) == shown
    assert match_key(key) == key


def test_there_are_fixtures() -> None:
    """The fixture folder is not empty (a wrong path would silently test nothing)."""
    assert len(_fixtures()) >= 15
