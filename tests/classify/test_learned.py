"""The learned type model: artefact, determinism, the decision beside the rules, "why"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tracker.classify import Engine, load_engine
from tracker.classify import train as training
from tracker.classify.features import DIM, char_buckets, raw_features, string_bucket, vector
from tracker.classify.learned import TypeModel, load_model
from tracker.errors import ConfigError
from tracker.model import Article

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "data" / "cases"
PUB = datetime(2025, 8, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def small_records() -> list[training.Record]:
    """A small sample of our own labelled cases: enough to learn, quick to fit."""
    records = training.read_records(sorted(CASES.glob("*.jsonl")))
    return records[::3]


def test_hashing_is_stable_and_keeps_no_text() -> None:
    """Buckets depend on the text alone (no per-process hash seed) and stay in range."""
    a = char_buckets("رقائق انفيديا")
    assert np.array_equal(a, char_buckets("رقائق انفيديا"))
    assert a.min() >= 0 and a.max() < DIM
    assert string_bucket("w", "رقائق") == string_bucket("w", "رقائق")
    assert string_bucket("w", "رقائق") != string_bucket("b", "رقائق")
    raw = raw_features("منحت واشنطن ترخيصا", {"g:licence"})
    assert len(raw.signals) == 1 and len(raw.tokens) == 5  # 3 words + 2 word pairs


def test_run_time_scores_are_the_trained_features_times_the_weights() -> None:
    """The scorer's per-word parts add up to the feature vector the model was trained on,
    for repeated words, a lone word, an empty sentence and signals, twice over (kept parts)."""
    model = load_model()
    keys = ["منحت واشنطن ترخيصا لتصدير رقائق انفيديا الى الصين", "رقائق رقائق هواوي رقائق",
            "", "انفيديا"]
    signal_sets = [{"g:licence", "k:company"}, set(), {"g:chip"}, {"g:licence"}]
    for _ in range(2):
        fast = model.batch_scores(keys, signal_sets)
        for key, signals, row in zip(keys, signal_sets, fast, strict=True):
            ids, values = vector(raw_features(key, signals), model.idf)
            slow = model.bias + (model.weights[ids] * values[:, None]).sum(axis=0)
            assert np.allclose(row, slow, atol=1e-5)


def test_kept_parts_stay_right_when_the_bound_clears_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for only a few words, scores of ever new words still equal a fresh model's."""
    import tracker.classify.learned as learned

    keys = ["رقائق انفيديا الجديدة في الصين", "هواوي تبدأ انتاج رقائق اسيند", "رقائق انفيديا"]
    roomy = load_model()
    expected = [roomy.batch_scores([key], [()]) for key in keys * 2]
    expected_words = roomy.top_words(keys[0].split(), "chip_launch")
    monkeypatch.setattr(learned, "_KEPT", 4)
    small = load_model()
    for key, want in zip(keys * 2, expected, strict=True):
        assert np.allclose(small.batch_scores([key], [()]), want)
    assert len(small._words.rows) <= 6  # cleared, not grown without bound
    assert small.top_words(keys[0].split(), "chip_launch") == expected_words


def test_training_is_deterministic(rules_engine: Engine,
                                   small_records: list[training.Record]) -> None:
    """Same records and seed give a byte-identical artefact; it loads back to the same model."""
    first = training.fit(rules_engine, small_records, seed=3).to_bytes()
    second = training.fit(rules_engine, small_records, seed=3).to_bytes()
    assert first == second
    loaded = TypeModel.from_bytes(first)
    assert loaded.to_bytes() == first
    other = training.fit(rules_engine, small_records[1:], seed=3).to_bytes()
    assert other != first  # the bytes do depend on the data


def test_damaged_or_foreign_files_are_clear_errors(tmp_path: Path) -> None:
    """A file that is not a model, or is cut short, names the problem."""
    with pytest.raises(ConfigError, match="not a tracker model"):
        TypeModel.from_bytes(b"PK\x03\x04 something else")
    good = load_model().to_bytes()
    with pytest.raises(ConfigError, match="damaged"):
        TypeModel.from_bytes(good[: len(good) // 2])
    with pytest.raises(ConfigError, match="cannot read"):
        load_model(tmp_path / "missing.bin")


def test_shipped_model_knows_the_eight_types() -> None:
    """The committed artefact covers every scored type with a threshold in (0, 1)."""
    model = load_model()
    assert set(model.types) == set(training.SCORED_TYPES)
    assert all(0.0 < model.threshold(t) < 1.0 for t in model.types)
    assert model.meta["records"] > 1000


def test_every_model_event_says_why(model_engine: Engine) -> None:
    """Each event names its probability against the threshold, its weighted words, and the
    rule that held or "model only"."""
    events = model_engine.classify(Article(
        "", "منحت وزارة التجارة الأمريكية شركة إنفيديا ترخيصا لتصدير رقائق H20 إلى الصين.", PUB))
    (ev,) = [e for e in events if e.type == "export_permit"]
    assert ev.why[0].startswith("model p=")
    assert any(w.startswith("words: ") for w in ev.why)
    assert any(w.startswith("rule: ") or w == "no rule: model only" for w in ev.why)
    assert {"nvidia", "h20"} <= set(ev.entity_ids())


def test_an_excerpt_naming_no_known_entity_still_passes_the_gate(model_engine: Engine) -> None:
    """A results sentence about "the company" (no known name) is a financial result with no
    entity; an off-topic item stops at the gate."""
    art = Article("", "وسجلت الشركة إيرادات بلغت 12 مليار دولار في الربع الثالث، "
                      "بارتفاع 40% على أساس سنوي.", PUB)
    assert model_engine.analyse(Article("طقس", "أمطار غزيرة متوقعة غدا.", PUB), gate=True) == ()
    (ev,) = model_engine.classify(art)
    assert ev.type == "financial_results" and ev.entities == ()


def _taxonomy_with(tmp_path: Path, extra: str) -> Path:
    text = (ROOT / "config" / "taxonomy.toml").read_text(encoding="utf-8")
    head, sep, rest = text.partition("[types.export_permit]\n")
    assert sep, "the shipped taxonomy defines export_permit"
    path = tmp_path / "taxonomy.toml"
    path.write_text(head + sep + extra + rest, encoding="utf-8")
    return path


def test_operator_can_require_an_actor(tmp_path: Path) -> None:
    """`require_any = ["us_state"]` on export_permit: without a US actor named in the
    sentence or before it, the model's permit is dropped; with one it stands."""
    model = load_model()
    plain = load_engine(ROOT / "config" / "taxonomy.toml", ROOT / "config" / "entities.toml"
                        ).with_model(model)
    strict = load_engine(_taxonomy_with(tmp_path, 'require_any = ["us_state"]\n'),
                         ROOT / "config" / "entities.toml").with_model(model)
    no_actor = Article("", "حصلت إنفيديا على ترخيص لتصدير رقائق H20 إلى الصين.", PUB)
    with_actor = Article("", "منحت واشنطن إنفيديا ترخيصا لتصدير رقائق H20 إلى الصين.", PUB)
    assert "export_permit" in {e.type for e in plain.classify(no_actor)}
    assert "export_permit" not in {e.type for e in strict.classify(no_actor)}
    assert "export_permit" in {e.type for e in strict.classify(with_actor)}


def test_operator_veto_and_rules_only_types(tmp_path: Path) -> None:
    """`veto` blocks a type where a lexicon group occurs; `model = false` leaves the type to
    its rules; bad values name the key."""
    model = load_model()
    art = Article("", "منحت واشنطن إنفيديا ترخيصا لتصدير رقائق H20 إلى الصين.", PUB)
    vetoed = load_engine(_taxonomy_with(tmp_path, 'veto = ["licence"]\n'),
                         ROOT / "config" / "entities.toml").with_model(model)
    assert "export_permit" not in {e.type for e in vetoed.classify(art)}
    rules_only = load_engine(_taxonomy_with(tmp_path, "model = false\n"),
                             ROOT / "config" / "entities.toml").with_model(model)
    (ev,) = [e for e in rules_only.classify(art) if e.type == "export_permit"]
    assert ev.why[0].startswith("rules only")
    with pytest.raises(ConfigError, match=r"types.export_permit.veto"):
        load_engine(_taxonomy_with(tmp_path, 'veto = ["no_such_group"]\n'),
                    ROOT / "config" / "entities.toml")


def test_a_type_the_model_never_saw_is_decided_by_rules(rules_engine: Engine) -> None:
    """A model trained on fewer types leaves the others to the rules."""
    records = training.read_records(sorted(CASES.glob("*.jsonl")))
    model = training.fit(rules_engine, records, types=("export_permit",))
    engine = rules_engine.with_model(model)
    art = Article("", "أعلنت هواوي بدء الإنتاج الضخم لشريحة أسيند 910C.", PUB)
    rule_types = {e.type for e in rules_engine.classify(art)}
    assert "mass_production" in rule_types
    assert {e.type for e in engine.classify(art)} == rule_types


def test_denied_rule_event_survives_a_low_probability(model_engine: Engine) -> None:
    """A denial is shown as one even when the model gives the type a low probability."""
    model = model_engine.model
    assert model is not None
    deaf = replace(model, thresholds=np.full(len(model.types), 0.999))
    engine = model_engine.with_model(deaf)
    events = engine.classify(Article(
        "", "نفت إنفيديا أنها حصلت على ترخيص لتصدير رقائق H20 إلى الصين.", PUB))
    assert [(e.type, e.status) for e in events] == [("export_permit", "denied")]


def test_cross_validation_groups_pages(rules_engine: Engine) -> None:
    """No page is in two folds, and the rules are scored on the same held-out items."""
    records = training.read_records(sorted(CASES.glob("*.jsonl")))
    pages = [r.group for r in records]
    folds = training._group_folds(pages, 3, seed=1)
    assert sorted(int(i) for f in folds for i in f) == list(range(len(records)))
    seen: dict[str, int] = {}
    for n, fold in enumerate(folds):
        for i in fold:
            assert seen.setdefault(pages[i], n) == n
    scores = training.cross_validate(rules_engine, records, k=3, seed=1)
    assert scores.model.items == scores.rules.items == len(records)
    assert 0.0 <= scores.model.macro_f1 <= 1.0
    assert "rules P" in training.render_cv(scores)


def test_a_headline_guess_the_body_does_not_carry_is_dropped(
        model_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A headline sums up its body: a type the model alone half-reads in the headline (the
    revenue words of a licence deal) is no event when no body sentence carries it; the
    body's own type stays. Without the rule the guess is an event of its own."""
    from tracker.classify import decide

    art = Article("إنفيديا تتقاسم إيرادات H20 مع واشنطن",
                  "اتفقت إنفيديا مع واشنطن على تقاسم 15% من إيرادات رقائق H20 في الصين "
                  "مقابل تراخيص التصدير.", PUB)
    types = [e.type for e in model_engine.classify(art)]
    assert "export_permit" in types and "financial_results" not in types
    monkeypatch.setattr(decide, "HEADLINE_ALONE", 0.0)
    assert "financial_results" in [e.type for e in model_engine.classify(art)]


def test_a_second_type_on_the_same_words_needs_half_the_first(
        model_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """One sentence mostly reports one event: the product names of a production plan do not
    also make it a chip launch, unless the share rule is off."""
    from tracker.classify import decide

    art = Article("", "هواوي تخطط لإنتاج 600 ألف شريحة أسيند 910C", PUB)
    assert [e.type for e in model_engine.classify(art)] == ["mass_production"]
    monkeypatch.setattr(decide, "SECOND_SHARE", 0.0)
    assert "chip_launch" in [e.type for e in model_engine.classify(art)]
