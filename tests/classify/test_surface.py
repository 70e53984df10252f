"""Surface-form generation: clitics are generated, never stemmed."""

from __future__ import annotations

from tracker.classify.surface import expand


def test_noun_takes_proclitics_enclitics_and_taa_to_taa() -> None:
    """A noun gets و/ب/لل/ال forms, ة→ت before suffixes, and tanwin alef."""
    plain, future = expand("شريحة", "noun")
    assert {"الشريحه", "وبالشريحه", "للشريحه", "شريحتها", "بشريحتهم"} <= set(plain)
    assert future == []
    assert "ترخيصا" in expand("ترخيص", "noun")[0]


def test_article_merges_with_lam() -> None:
    """ل + ال becomes لل, never لال."""
    plain, _ = expand("الصين", "name")
    assert "للصين" in plain and "لالصين" not in plain


def test_present_verb_gets_future_forms() -> None:
    """Present-tense verbs get the future prefix, marked separately (it means planned)."""
    plain, future = expand("تفرض", "verb")
    assert "وتفرض" in plain and "ستفرض" in future and "وستفرض" in future
    assert expand("فرضت", "verb")[1] == []


def test_phrase_takes_proclitics_on_first_word_only() -> None:
    """Multi-word entries keep their later words as written."""
    plain, _ = expand("قائمة الكيانات", "phrase")
    assert "بقاءمه الكيانات" in plain and all(p.endswith(" الكيانات") for p in plain)


def test_latin_and_exact_forms_are_left_alone() -> None:
    """Latin names and exact forms are matched as written (in match-key form)."""
    assert expand("Nvidia", "name") == (["nvidia"], [])
    assert expand("لم", "exact") == (["لم"], [])
