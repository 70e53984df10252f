"""Specific behaviours of the engine that the issue calls out one by one."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.classify import Engine
from tracker.model import Article

PUB = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)


def _types(engine: Engine, text: str, title: str = "") -> dict[str, str]:
    return {ev.type: ev.status for ev in engine.classify(Article(title, text, PUB))}


def test_denial_yields_status_denied(engine: Engine) -> None:
    """نفت إنفيديا … reports the event with status denied."""
    got = _types(engine, "نفت إنفيديا أنها حصلت على ترخيص لتصدير رقائق H20 إلى الصين.")
    assert got == {"export_permit": "denied"}


def test_meta_alone_never_matches_metax(engine: Engine) -> None:
    """ميتا alone is Meta; ميتا إكس and ميتاكس are MetaX."""
    (ev,) = engine.classify(Article("", "أطلقت ميتا شريحة جديدة للذكاء الاصطناعي.", PUB))
    assert "meta" in ev.entity_ids() and "metax" not in ev.entity_ids()
    (ev,) = engine.classify(Article("", "أطلقت ميتا إكس شريحة جديدة للذكاء الاصطناعي.", PUB))
    assert "metax" in ev.entity_ids() and "meta" not in ev.entity_ids()


def test_source_never_fires_export(engine: Engine) -> None:
    """مصدر مطلع (a source) never triggers an export event (مصدر/تصدير collision)."""
    got = _types(engine, "قال مصدر مطلع إن إنفيديا ستسمح لموظفيها بالعمل من المنزل في الصين.")
    assert "export_permit" not in got and "export_restriction" not in got


def test_gaming_gpu_review_yields_nothing(engine: Engine) -> None:
    """A gaming-GPU review produces no event."""
    text = ("أطلقت إنفيديا بطاقة جيفورس RTX 5080 الجديدة، وفي اختباراتنا حققت أداء ممتازا "
            "في الألعاب بدقة 4K مع تقنيات تتبع الأشعة.")
    assert engine.classify(Article("مراجعة بطاقة RTX 5080", text, PUB)) == ()


def test_off_topic_item_is_rejected_early(engine: Engine) -> None:
    """An item with no trigger at all yields no events."""
    assert engine.classify(Article("طقس", "أمطار غزيرة متوقعة على السواحل غدا.", PUB)) == ()


def test_undated_article_still_classifies(engine: Engine) -> None:
    """Without a publication time, relative dates stay unresolved but events are found."""
    (ev,) = engine.classify(Article("", "كشفت هواوي الشهر الماضي عن شريحة أسيند جديدة.", None))
    assert ev.type == "chip_launch" and ev.event_date is None


def test_classify_is_deterministic(engine: Engine) -> None:
    """The same article gives the same events twice."""
    art = Article("", "فرضت الولايات المتحدة قيودا جديدة على تصدير الرقائق إلى الصين.", PUB)
    assert engine.classify(art) == engine.classify(art)


def test_descriptive_api(engine: Engine) -> None:
    """Types, labels and entity kinds are exposed for the CLI and watchlists."""
    assert len(engine.event_types()) == 8
    assert engine.labels("export_permit", "en") == "Export permit"
    assert engine.labels("export_permit", "ar")
    assert engine.entity_kinds()["china_gov"] == "china_gov"
    assert engine.entity_label("nvidia", "ar") == "إنفيديا"
    assert engine.entity_label("unknown_thing", "en") == "unknown_thing"


def test_names_split_by_punctuation_still_match(engine: Engine) -> None:
    """A multi-word name with quotes around one word («الشعب») is still one entity."""
    text = "حذرت صحيفة «الشعب» اليومية الشركات من شراء رقائق H20."
    (ev,) = engine.classify(Article("", text, PUB))
    assert ev.type == "purchase_guidance" and "china_state_media" in ev.entity_ids()


def test_deputy_chairman_is_not_a_third_party(engine: Engine) -> None:
    """نائب رئيس مجلس الإدارة speaks for the company; only نواب (lawmakers) are third parties."""
    text = "وقال نائب رئيس مجلس إدارة هواوي إن الشركة طورت شريحة جديدة للذكاء الاصطناعي."
    assert [ev.type for ev in engine.classify(Article("", text, PUB))] == ["chip_launch"]


def test_first_mention_decides_third_party(engine: Engine) -> None:
    """Results reported before 'analysts' expectations' are not someone else's speculation."""
    text = ("أعلنت إنفيديا أن إيراداتها ارتفعت إلى 30 مليار دولار، متجاوزة توقعات المحللين، "
            "كما زادت المبيعات بنسبة 10 بالمئة.")
    assert [ev.type for ev in engine.classify(Article("", text, PUB))] == ["financial_results"]


def test_state_actor_next_to_the_verb_decides(engine: Engine) -> None:
    """A ban whose subject is China is not a US export restriction, whatever else is named."""
    text = "الصين تحظر منتجات ميكرون الأمريكية رغم ضغوط الولايات المتحدة."
    types = {ev.type for ev in engine.classify(Article("", text, PUB))}
    assert "export_restriction" not in types and "purchase_guidance" in types


def test_empty_and_markup_free_inputs(engine: Engine) -> None:
    """Empty items and items made only of punctuation yield no events and no error."""
    assert engine.classify(Article("", "", None)) == ()
    assert engine.classify(Article("…", "؟؟ ، . \n\n", PUB)) == ()


def test_rumoured_and_planned_statuses(engine: Engine) -> None:
    """Sourced reports are rumoured; intentions and the future prefix are planned."""
    got = _types(engine, "قالت مصادر مطلعة إن واشنطن ستفرض قيودا جديدة على تصدير الرقائق.")
    assert got == {"export_restriction": "rumoured"}
    got = _types(engine, "تعتزم هواوي بدء الإنتاج الضخم لشريحة أسيند 910C.")
    assert got == {"mass_production": "planned"}


def test_recap_cue_without_date(engine: Engine) -> None:
    """سبق أن marks an undated recap."""
    (ev,) = engine.classify(Article(
        "", "وسبق أن قيدت واشنطن بيع رقائق إنفيديا للصين بقرار جديد.", PUB))
    assert ev.type == "export_restriction" and ev.recap and ev.event_date is None
