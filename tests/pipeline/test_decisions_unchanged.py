"""The speed work changes no decision: the same rows as the code before it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.decisions import FIXTURE, decisions, digests


@pytest.mark.slow
def test_bench_poll_feeds_give_the_rows_the_pre_speed_work_code_gave(tmp_path: Path) -> None:
    """Items, events, sources, entities, status history, outbox and feed state over three
    cycles of bench_poll's feeds hash to the digests recorded before the speed work."""
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    found = digests(decisions(f"sqlite:///{tmp_path / 'tracker.db'}"))
    assert {k: v["rows"] for k, v in found.items()} == {k: v["rows"] for k, v in expected.items()}
    assert found == expected
