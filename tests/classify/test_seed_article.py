"""The worked example of DESIGN.md: the seed article yields its seven kinds of events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.classify import Engine
from tracker.classify.report import event_to_json
from tracker.model import Article, DetectedEvent

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PUBLISHED = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def events(engine: Engine) -> tuple[DetectedEvent, ...]:
    path = SHARED / "seed_article_ar.txt"
    if not path.exists():
        pytest.skip("shared seed article not available")
    title, _, text = path.read_text(encoding="utf-8").partition("\n")
    return engine.classify(Article(title=title, text=text, published=PUBLISHED))


def _of(events: tuple[DetectedEvent, ...], type_id: str) -> list[DetectedEvent]:
    return [ev for ev in events if ev.type == type_id]


def test_chip_launches_of_alibaba_and_metax(events: tuple[DetectedEvent, ...]) -> None:
    """Alibaba's new chip and MetaX's July chip are both chip launches."""
    ids = {i for ev in _of(events, "chip_launch") for i in ev.entity_ids()}
    assert {"alibaba", "metax"} <= ids


def test_metax_mass_production(events: tuple[DetectedEvent, ...]) -> None:
    """MetaX preparing mass production on Wednesday is news dated 2025-08-27."""
    (ev,) = _of(events, "mass_production")
    assert "metax" in ev.entity_ids()
    assert ev.event_date is not None and ev.event_date.value == "2025-08-27"
    assert not ev.recap


def test_export_permit_is_a_dated_recap(events: tuple[DetectedEvent, ...]) -> None:
    """Trump's July permit for Nvidia's H20 is a recap dated 2025-07."""
    (ev,) = _of(events, "export_permit")
    assert {"nvidia", "h20", "us_gov"} <= set(ev.entity_ids())
    assert ev.recap
    assert event_to_json(ev)["event_date"] == "2025-07"


def test_purchase_guidance_and_security_concerns(events: tuple[DetectedEvent, ...]) -> None:
    """Beijing's request not to buy, citing security risks, is guidance plus a security event."""
    (guidance,) = _of(events, "purchase_guidance")
    assert "china_gov" in guidance.entity_ids() and guidance.recap
    (security,) = _of(events, "security_review")
    assert "china_gov" in security.entity_ids() and security.status != "denied"


def test_financial_results_and_supply(events: tuple[DetectedEvent, ...]) -> None:
    """Alibaba's cloud growth of 26% and the fabs' capacity struggle are both found."""
    (fin,) = _of(events, "financial_results")
    assert "alibaba" in fin.entity_ids()
    assert any("26" in phrase for phrase in fin.evidence)
    assert _of(events, "supply_constraint")


def test_json_line_has_the_required_ids(events: tuple[DetectedEvent, ...]) -> None:
    """The JSON form carries nvidia, h20, metax and china_gov as canonical ids."""
    ids = {i for ev in events for i in event_to_json(ev)["entities"]}
    assert {"nvidia", "h20", "metax", "china_gov"} <= ids
