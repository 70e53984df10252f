"""The speed work changes no decision: the same rows as the code before it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.decisions import FIXTURE, REPLAY_FIXTURE, decisions, digests, replay_decisions


@pytest.mark.slow
def test_bench_poll_feeds_give_the_rows_the_pre_speed_work_code_gave(tmp_path: Path) -> None:
    """Items, events, sources, entities, status history, outbox and feed state over three
    cycles of bench_poll's feeds hash to the digests recorded before the speed work."""
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    found = digests(decisions(f"sqlite:///{tmp_path / 'tracker.db'}"))
    assert {k: v["rows"] for k, v in found.items()} == {k: v["rows"] for k, v in expected.items()}
    assert found == expected


@pytest.mark.slow
def test_the_replay_gives_the_rows_the_code_before_gave() -> None:
    """Items, events, sources, entities, status history, outbox and feed state after the
    multi-outlet replay hash to the digests the code before issue 14's third part wrote."""
    expected = json.loads(REPLAY_FIXTURE.read_text(encoding="utf-8"))
    found = digests(replay_decisions())
    assert {k: v["rows"] for k, v in found.items()} == {k: v["rows"] for k, v in expected.items()}
    assert found == expected
