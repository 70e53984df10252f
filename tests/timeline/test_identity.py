"""Event identity as a readable decision: ``same_event`` and ``follow_up`` on mentions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tracker.model import DetectedEvent, EntityRef, EventDate, TimelineEvent
from tracker.text.normalize import match_key
from tracker.text.plural import reported_by
from tracker.timeline import Mention, follow_up, mention, of_event, same_event
from tracker.timeline.figures import figures

T0 = datetime(2025, 8, 29, 9, 0, tzinfo=UTC)
NVIDIA = EntityRef("nvidia", "company", "target")
HUAWEI = EntityRef("huawei", "company", "actor")
US = EntityRef("us_gov", "us_gov", "actor")


def _product(pid: str) -> EntityRef:
    return EntityRef(pid, "product", "product")


def _m(type_: str = "export_permit", entities: tuple[EntityRef, ...] = (NVIDIA, _product("h20")),
       sentence: str = "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين",
       status: str = "reported", date: EventDate | None = None, at: datetime = T0,
       recap: bool = False) -> Mention:
    ev = DetectedEvent(type_, 0.9, entities, date, status, recap, (), sentence)  # type: ignore[arg-type]
    return mention(ev, at, at)


def test_the_same_permit_in_other_words_is_one_event() -> None:
    """Two outlets' wordings of one permit, hours apart, are one event, with reasons."""
    verdict = same_event(_m(), _m(sentence="الإدارة الأمريكية توافق على بيع شرائح H20 من "
                                  "إنفيديا للصين", at=T0 + timedelta(hours=5)))
    assert verdict.joined
    assert any("same company or product" in r for r in verdict.reasons)
    assert str(verdict).startswith("joined: same type export_permit")


def test_another_type_is_another_event() -> None:
    """A restriction is not the permit, whatever the entities."""
    verdict = same_event(_m(), _m(type_="export_restriction"))
    assert not verdict.joined and verdict.reasons == ("type export_permit ≠ export_restriction",)


@pytest.mark.parametrize(("a", "b"), [("h20", "h200"), ("ascend_910c", "ascend_950")])
def test_same_company_another_product_is_another_event(a: str, b: str) -> None:
    """H20 ≠ H200 and Ascend 910C ≠ Ascend 950: the product decides."""
    verdict = same_event(_m(entities=(NVIDIA, _product(a))), _m(entities=(NVIDIA, _product(b))))
    assert not verdict.joined and "products differ" in verdict.reasons[-1]


def test_other_companies_are_another_event() -> None:
    """Nvidia's permit is not Huawei's."""
    assert not same_event(_m(entities=(NVIDIA,)), _m(entities=(HUAWEI,))).joined


def test_event_dates_decide_before_publication_times() -> None:
    """Two reports published the same hour about July and September are two events."""
    july = _m(date=EventDate("2025-07", "month"))
    september = _m(date=EventDate("2025-09", "month"))
    verdict = same_event(july, september)
    assert not verdict.joined and "event dates differ" in verdict.reasons[-1]
    assert same_event(july, _m(date=EventDate("2025-07-15", "day"),
                               at=T0 + timedelta(days=20))).joined


def test_undated_reports_days_apart_are_two_events() -> None:
    """Without event dates, publication times more than three days apart separate."""
    assert not same_event(_m(), _m(at=T0 + timedelta(days=5))).joined
    assert same_event(_m(), _m(at=T0 + timedelta(days=2))).joined


def test_an_undated_recap_recalls_an_earlier_event() -> None:
    """A recap without a date joins the earlier event it recalls."""
    assert same_event(_m(recap=True, at=T0 + timedelta(days=40)), _m()).joined


def test_a_plan_and_its_execution_are_two_linked_events() -> None:
    """Planned mass production and production that started are two events, linked."""
    ents = (HUAWEI, _product("ascend_910c"))
    plan = _m("mass_production", ents, "هواوي تعتزم بدء الإنتاج الضخم لرقائق 910C",
              status="planned")
    start = _m("mass_production", ents, "هواوي تبدأ الإنتاج الضخم لرقائق 910C",
               at=T0 + timedelta(days=1))
    verdict = same_event(start, plan)
    assert not verdict.joined and "two events" in verdict.reasons[-1]
    assert follow_up(start, plan) == "planned → reported"


def test_a_denial_attaches_to_the_event_it_denies() -> None:
    """A denial is compatible with the event it denies."""
    assert same_event(_m(status="denied"), _m()).joined


@pytest.mark.parametrize(("a", "b"), [
    ("500 ألف شريحة", "80 ألف شريحة"), ("بحصة 15%", "بحصة 25 بالمئة"),
    ("إضافة 12 شركة", "إضافة 40 شركة"),
])
def test_different_figures_of_one_unit_are_two_events(a: str, b: str) -> None:
    """500,000 vs 80,000 units, 15 % vs 25 %, 12 vs 40 companies: different events."""
    verdict = same_event(_m(sentence=f"إنفيديا H20 {a}"), _m(sentence=f"إنفيديا H20 {b}"))
    assert not verdict.joined and "figures differ" in verdict.reasons[-1]


def test_figures_keep_their_unit() -> None:
    """Numbers are read with their unit and multiplier; a bare number is no figure."""
    assert figures(match_key("تنتج 500 ألف شريحة وتحصل على 15% و5 مليارات دولار")) == (
        "units:500000", "pct:15", "usd:5000000000")
    assert figures(match_key("رقائق H20 في عام 2025")) == ()


def test_an_unnamed_side_needs_alike_sentences() -> None:
    """A report naming no company joins only when its sentence resembles the other's."""
    named = _m(entities=(US, NVIDIA), sentence="واشنطن تمنح إنفيديا تراخيص لتصدير الرقائق")
    alike = _m(entities=(US,), sentence="واشنطن تمنح تراخيص لتصدير الرقائق")
    unlike = _m(entities=(US,), sentence="موافقة أمريكية جديدة")
    assert same_event(alike, named).joined
    assert not same_event(unlike, named).joined
    assert same_event(unlike, named, near_duplicate=True).joined


def test_within_one_item_a_recap_and_news_stay_two() -> None:
    """One item's title and body join regardless of time, but news and a recap do not."""
    assert same_event(_m(), _m(at=T0 + timedelta(days=9)), same_item=True).joined
    assert not same_event(_m(), _m(recap=True), same_item=True).joined


def test_a_headline_summing_up_a_recap_is_that_recap() -> None:
    """A verbless headline over a body that only recalls the event is one recap event; a body
    with news and a recap of one event keeps both, the headline joining the news."""
    from tracker.timeline import collapse

    title = "خلفية: تراخيص H20"
    head = DetectedEvent("export_permit", 0.6, (_product("h20"),), None, "reported", False,
                         (), title)
    recalled = DetectedEvent("export_permit", 0.9, (US, NVIDIA, _product("h20")), None,
                             "reported", True, (), "كانت واشنطن قد سمحت لإنفيديا بتصدير H20.")
    news = replace(recalled, recap=False, sentence="ومنحت واشنطن إنفيديا اليوم تراخيص H20.")
    (only,) = collapse([head, recalled], T0, T0, title)
    assert only[0].recap and only[1].recap
    both = collapse([head, news, recalled], T0, T0, title)
    assert [ev.recap for ev, _ in both] == [False, True]
    assert len(both[0][1].sentences) == 2  # the headline joined the news
    assert len(collapse([head, recalled], T0, T0)) == 2  # without knowing the headline


def test_a_timeline_event_reads_as_its_first_mention() -> None:
    """``of_event`` carries type, entities, date, status, figures and sentence."""
    ev = TimelineEvent(1, "export_permit", "h", (NVIDIA, _product("h20")), None, T0,
                       "reported", T0, "o", 1, False, (), sentence="إنفيديا H20",
                       figures=("pct:15",))
    m = of_event(ev)
    assert m.products == {"h20"} and m.companies == {"nvidia"} and m.figures == ("pct:15",)
    assert same_event(_m(), m).joined


@pytest.mark.parametrize(("n", "ar", "en"), [
    (1, "أوردته وسيلة إعلام واحدة", "reported by 1 outlet"),
    (2, "أوردته وسيلتا إعلام", "reported by 2 outlets"),
    (3, "أوردته 3 وسائل إعلام", "reported by 3 outlets"),
    (11, "أوردته 11 وسيلة إعلام", "reported by 11 outlets"),
    (103, "أوردته 103 وسائل إعلام", "reported by 103 outlets"),
])
def test_reported_by_follows_the_plural_rules(n: int, ar: str, en: str) -> None:
    """Arabic agrees the noun with the number (one, two, few, many), English too."""
    assert reported_by(n, "ar") == ar and reported_by(n, "en") == en
