"""The automaton finds exactly the whole-token occurrences of every surface form."""

from __future__ import annotations

import random

import pytest

from tracker.classify.gazetteer import load_gazetteer
from tracker.classify.matcher import ENTITY, LEXICON, Matcher, Raw, _loose, scan_text
from tracker.classify.rules import load_taxonomy
from tracker.classify.surface import expand

from .conftest import ENTITIES, TAXONOMY


@pytest.fixture(scope="module")
def parts() -> tuple[Matcher, dict[str, set[tuple[str, str, bool]]]]:
    """The matcher of the shipped config and, independently, every padded surface with
    what it names."""
    gazetteer, taxonomy = load_gazetteer(ENTITIES), load_taxonomy(TAXONOMY)
    surfaces: dict[str, set[tuple[str, str, bool]]] = {}
    for ent in gazetteer.entities.values():
        for written in ent.names:
            plain, _ = expand(written, "name")
            for form in plain + _loose(plain):
                surfaces.setdefault(f" {form} ", set()).add((ENTITY, ent.id, False))
    for group in taxonomy.groups.values():
        for written in group.forms:
            plain, future = expand(written, group.word_class)
            for forms, fut in ((plain, False), (future, True)):
                for form in forms:
                    surfaces.setdefault(f" {form} ", set()).add((LEXICON, group.name, fut))
    return Matcher(gazetteer, taxonomy), surfaces


def _every_occurrence(scan: str, surfaces: dict[str, set[tuple[str, str, bool]]]
                      ) -> list[Raw]:
    """The reference: each surface looked for with ``str.find`` in the padded text."""
    padded = f" {scan} "
    out: list[Raw] = []
    for surface, payload in surfaces.items():
        at = padded.find(surface)
        while at >= 0:
            out.extend((at, at + len(surface) - 2, k, n, f) for k, n, f in payload)
            at = padded.find(surface, at + 1)
    return out


def test_hits_are_every_whole_token_occurrence_with_its_offsets(
        parts: tuple[Matcher, dict[str, set[tuple[str, str, bool]]]]) -> None:
    """Texts made of random surfaces, filler words and punctuation (at the edges too):
    the automaton's hits are exactly the occurrences ``str.find`` gives, same offsets,
    and each hit's span is the form itself."""
    matcher, surfaces = parts
    rng = random.Random(14)
    forms = sorted(s.strip() for s in surfaces)
    glue = [" ", " ", " ", "، ", " «", "» ", ". ", " (", ") ", "-", " و"]
    for _ in range(12):
        pieces = [rng.choice(forms) if rng.random() < 0.6 else rng.choice(["في", "xyz", "ال"])
                  for _ in range(rng.randint(1, 30))]
        text = rng.choice(["", "«", " "]) + "".join(p + rng.choice(glue) for p in pieces)
        scan = scan_text(text)
        raw, groups = matcher.scan(scan)
        expected = _every_occurrence(scan, surfaces)
        assert sorted(raw) == sorted(expected)
        assert raw, text
        for start, end, _kind, _name, _future in raw:
            assert f" {scan[start:end]} " in surfaces
        lexicon = {name for _s, _e, kind, name, _f in expected if kind == LEXICON}
        assert groups == matcher.mask(lexicon)
