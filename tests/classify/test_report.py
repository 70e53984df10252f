"""JSON lines, readable reports and evaluation scoring."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.classify import Engine
from tracker.classify.evaluate import evaluate, render_evaluation
from tracker.classify.report import classify_record, event_to_json, render_report
from tracker.model import Article, DetectedEvent, EntityRef, EventDate


def _event(date: EventDate | None) -> DetectedEvent:
    return DetectedEvent("chip_launch", 0.8, (EntityRef("huawei", "company", "actor"),), date,
                         "reported", False, ("كشفت",), "كشفت هواوي عن شريحة")


def test_event_to_json_keys() -> None:
    """The JSON form has the DESIGN.md keys and canonical entity ids."""
    out = event_to_json(_event(EventDate("2025-07", "month")))
    keys = {"type", "confidence", "entities", "event_date", "status", "recap", "evidence"}
    assert keys <= set(out)
    assert out["entities"] == ["huawei"] and out["event_date"] == "2025-07"


def test_year_precision_is_not_an_event_date() -> None:
    """A year-only date gives event_date null and keeps the year in extra keys."""
    out = event_to_json(_event(EventDate("2024", "year")))
    assert out["event_date"] is None
    assert out["event_date_precision"] == "year" and out["event_year"] == "2024"


def test_classify_record_ok_and_bad(engine: Engine) -> None:
    """A good record gives events; a bad one gives an error, never an exception."""
    good = classify_record(engine, {"id": "a", "title": "", "published": "2025-08-29T12:00:00Z",
                                    "text": "كشفت هواوي عن شريحة أسيند جديدة."})
    assert good["id"] == "a" and good["events"][0]["type"] == "chip_launch"
    assert "error" not in good
    for bad in ({"id": "b"}, {"id": "c", "text": "x", "published": "yesterday"}, ["x"]):
        out = classify_record(engine, bad)
        assert out["events"] == [] and out["error"]


def test_render_report_highlights_evidence(engine: Engine) -> None:
    """The readable report marks each evidence phrase in its sentence."""
    art = Article("", "كشفت هواوي عن شريحة أسيند جديدة.", datetime(2025, 8, 29, tzinfo=UTC))
    text = render_report(art, engine.classify(art))
    assert "chip_launch" in text and "⟪كشفت⟫" in text
    assert "no events" in render_report(art, ())


def test_evaluate_scores_and_lists_errors(engine: Engine) -> None:
    """Denied events count as absent; per-type P/R/F1 and errors are reported."""
    records = [
        {"id": "1", "text": "كشفت هواوي عن شريحة أسيند جديدة.", "labels": ["chip_launch"]},
        {"id": "2", "text": "نفت هواوي أنها كشفت عن شريحة جديدة.", "labels": ["none"]},
        {"id": "3", "text": "أمطار غزيرة على السواحل.", "labels": ["supply_constraint"]},
    ]
    result = evaluate(engine, records)
    launch = result.score("chip_launch")
    assert (launch.tp, launch.fp, launch.fn) == (1, 0, 0)
    assert result.score("supply_constraint").fn == 1
    assert [e.id for e in result.errors] == ["3"]
    assert "macro-F1" in render_evaluation(result)


def test_headline_is_context_in_evaluation(engine: Engine) -> None:
    """A headline that differs from the text lends entities but its own events are not scored."""
    record = {"id": "h", "title": "واشنطن تمنح إنفيديا ترخيصا لتصدير رقائق H20",
              "text": "أمطار غزيرة على السواحل.", "labels": ["none"]}
    assert evaluate(engine, [record]).errors == ()
    counted = evaluate(engine, [record], title_events=True)
    assert counted.score("export_permit").fp == 1
