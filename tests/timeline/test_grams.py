"""Identity's sentence similarity, on packed 4-gram codes, is the Jaccard similarity of
the sentences' sets of character 4-grams, exactly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tracker.text.normalize import match_key
from tracker.timeline.identity import Mention, similarity

SENTENCES = [
    "واشنطن تمنح إنفيديا ترخيصاً لاستئناف تصدير شريحة H20 إلى الصين",
    "واشنطن تمنح إنفيديا ترخيصا لاستئناف تصدير شريحة H20 😀 إلى الصين",
    "هواوي تكشف عن معالج أسيند 910C لمراكز البيانات",
    "Huawei unveils the Ascend 910C for data centres",
    "😀😀😀😀😀 إنفيديا 𝕏 \ufff5\ufff6\ufff7\ufff8 نص",
    "\ufff5\ufff6\ufff7\ufff8 نص إنفيديا",
    "abc",
    "",
]


def _reference(a: str, b: str) -> float:
    def grams(s: str) -> frozenset[str]:
        text = " ".join(match_key(s).split())
        return frozenset(text[i:i + 4] for i in range(max(0, len(text) - 3)))

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb) if ga and gb else 0.0


def _mention(sentence: str) -> Mention:
    when = datetime(2025, 8, 1, tzinfo=UTC)
    return Mention("export_permit", frozenset(), frozenset(), frozenset(), None, when,
                   "reported", sentences=(sentence,))


def test_similarity_is_the_jaccard_of_4_gram_sets_for_every_pair() -> None:
    """Every pair, wide characters and characters near U+FFFF included, gives the same
    float as sets of 4-gram strings (the code before the packing)."""
    for a, b in itertools.product(SENTENCES, repeat=2):
        assert similarity(_mention(a), _mention(b)) == _reference(a, b), (a, b)
    assert 0 < _reference(SENTENCES[0], SENTENCES[1]) < 1
    assert _reference(SENTENCES[4], SENTENCES[5]) > 0
