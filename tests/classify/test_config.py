"""Config loading: bad files name the file and rule; operator additions work without code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.classify import load_engine
from tracker.errors import ConfigError
from tracker.model import Article

from .conftest import ENTITIES, TAXONOMY

PUB = datetime(2025, 8, 29, tzinfo=UTC)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_group_names_file_and_rule(tmp_path: Path) -> None:
    """A rule that names an unknown lexicon group raises ConfigError with file and rule."""
    bad = TAXONOMY.read_text(encoding="utf-8") + (
        '\n[types.broken]\nlabel_ar = "س"\nlabel_en = "Broken"\n'
        '[[types.broken.rules]]\nid = "oops"\nrequire = ["no_such_group"]\n'
    )
    path = _write(tmp_path, "taxonomy.toml", bad)
    with pytest.raises(ConfigError) as info:
        load_engine(path, ENTITIES)
    assert info.value.file == str(path)
    assert "types.broken.rules[0] (oops)" in info.value.key
    assert "no_such_group" in info.value.problem


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        ('[lexicon.x]\nclass = "adverb"\nforms = ["ا"]\n', "lexicon.x.class"),
        ('[lexicon.x]\nforms = ["ا"]\npatterns = ["("]\n', "lexicon.x.patterns[0]"),
        ('[types.t]\nlabel_en = "T"\n[[types.t.rules]]\nrequire = ["chip"]\n', "types.t.label_ar"),
        ('[types.t]\nlabel_ar = "ت"\nlabel_en = "T"\nrules = []\n', "types.t.rules"),
        ('[types.t]\nlabel_ar = "ت"\nlabel_en = "T"\n[[types.t.rules]]\nrequire = ["@company"]\n',
         "types.t.rules[0].require"),
    ],
)
def test_bad_taxonomy_entries(tmp_path: Path, snippet: str, key: str) -> None:
    """Each kind of bad entry is reported with the key that holds it."""
    path = _write(tmp_path, "taxonomy.toml", TAXONOMY.read_text(encoding="utf-8") + "\n" + snippet)
    with pytest.raises(ConfigError) as info:
        load_engine(path, ENTITIES)
    assert info.value.key == key


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    """Unparseable and missing files raise ConfigError naming the file."""
    path = _write(tmp_path, "taxonomy.toml", "[lexicon\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_engine(path, ENTITIES)
    with pytest.raises(ConfigError, match="file not found"):
        load_engine(tmp_path / "nope.toml", ENTITIES)


def test_bad_entity_kind(tmp_path: Path) -> None:
    """An entity with an unknown kind names its key."""
    path = _write(tmp_path, "extra.toml", '[entities.acme]\nkind = "planet"\nlatin = ["Acme"]\n')
    with pytest.raises(ConfigError) as info:
        load_engine(TAXONOMY, ENTITIES, path)
    assert info.value.key == "entities.acme.kind" and info.value.file == str(path)


def test_operator_added_type_and_trigger(tmp_path: Path) -> None:
    """A type and a trigger added in config work like the shipped ones, without code."""
    extra = (
        '\n[lexicon.invest_verb]\nclass = "verb"\nforms = ["استثمرت", "تستثمر"]\n'
        '\n[types.investment]\nlabel_ar = "استثمار"\nlabel_en = "Investment"\n'
        '[[types.investment.rules]]\nid = "invests_in_fab"\n'
        'require = ["invest_verb", "fab|chip", "@company"]\nactor = ["company"]\n'
    )
    tax = _write(tmp_path, "taxonomy.toml", TAXONOMY.read_text(encoding="utf-8") + extra)
    ents = _write(tmp_path, "extra.toml",
                  '[entities.acme_chips]\nkind = "company"\ntags = ["chip_maker"]\n'
                  'ar = ["أكمي للرقائق"]\nlatin = ["AcmeChips"]\n')
    engine = load_engine(tax, ENTITIES, ents)
    assert "investment" in engine.event_types()
    (ev,) = engine.classify(Article("", "واستثمرت أكمي للرقائق مليار دولار في مصنع جديد.", PUB))
    assert ev.type == "investment" and ev.entity_ids() == ("acme_chips",)
    assert engine.entity_kinds()["acme_chips"] == "company"


def test_extra_entities_add_aliases(tmp_path: Path) -> None:
    """An extra entry with a shipped id adds spellings to that entity."""
    ents = _write(tmp_path, "extra.toml", '[entities.nvidia]\nar = ["انفيدياا"]\n')
    engine = load_engine(TAXONOMY, ENTITIES, ents)
    (ev,) = engine.classify(Article("", "أطلقت انفيدياا شريحة جديدة للذكاء الاصطناعي.", PUB))
    assert "nvidia" in ev.entity_ids()
