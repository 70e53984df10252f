"""The labelled Arabic cases of tests/data/cases, one parametrised test per case.

Each JSON line: id, title?, text, published?, expected (event types that count, i.e. not
denied), and optionally status / recap / event_date / entities keyed by type, plus a "why".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracker.classify import Engine
from tracker.classify.report import parse_published
from tracker.model import Article

CASES_DIR = Path(__file__).resolve().parents[1] / "data" / "cases"


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                out.append(pytest.param(case, id=case["id"]))
    return out


@pytest.mark.parametrize("case", _cases())
def test_case(engine: Engine, case: dict[str, Any]) -> None:
    """The engine finds exactly the expected event types, with the expected details."""
    article = Article(case.get("title", ""), case["text"], parse_published(case.get("published")))
    events = engine.classify(article)
    counted = {ev.type for ev in events if ev.status != "denied"}
    assert counted == set(case["expected"]), case["why"]
    by_type = {ev.type: ev for ev in events}
    for type_id, status in case.get("status", {}).items():
        assert by_type[type_id].status == status, case["why"]
    for type_id, recap in case.get("recap", {}).items():
        assert by_type[type_id].recap is recap, case["why"]
    for type_id, value in case.get("event_date", {}).items():
        date = by_type[type_id].event_date
        assert date is not None and date.value == value, case["why"]
    for type_id, ids in case.get("entities", {}).items():
        assert set(ids) <= set(by_type[type_id].entity_ids()), case["why"]


def test_case_files_are_well_formed() -> None:
    """Every case has a unique id, a text, an expected list and a reason."""
    ids = [p.values[0]["id"] for p in _cases()]
    assert len(ids) == len(set(ids)) >= 150
    for p in _cases():
        case = p.values[0]
        assert isinstance(case["expected"], list) and case["why"] and "text" in case
