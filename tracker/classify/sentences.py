"""Sentence and clause splitting on display text and match keys.

Sentences: title and text split at line breaks and at . ! ? ؟ followed by white space; ".."
and "…" join the halves of a headline and do not split, nor does a decimal point (3.5). The
engine splits the match key of the whole item the same way (line breaks become ¶), so key
sentence i is display sentence i. Clauses: a sentence's match key splits where a comma or
semicolon is followed by a contrastive or temporal connective (لكن، ولكن، بينما، فيما، في
حين، إلا أن، غير أن) and at every semicolon; events take status cues and dates from their
own clause.
"""

from __future__ import annotations

import re

# ".." and "…" join the two halves of a headline: they do not end a sentence
_SENTENCE_END = re.compile(r"(?<=[.!?؟])(?<!\.\.)\s+|\s*\n+\s*")
_KEY_SENTENCE_END = re.compile(r"\s*¶\s*|(?<=[.!?])(?<!\.\.)\s+")
_CLAUSE = re.compile(
    r"(?:[,;]\s*(?:[وف]?لكن|بينما|فيما|في حين|الا ان|غير ان|وبعد ذلك|ثم)\b|;|\s(?:ولكن|لكن)\s)"
)


def split_sentences(title: str, text: str) -> list[str]:
    """The sentences of the title, then of the text, in order, without empty ones."""
    return [s.strip() for part in (title, text) for s in _SENTENCE_END.split(part)
            if s and s.strip()]


def joined_for_key(title: str, text: str) -> str:
    """Title and text joined so that line breaks survive ``match_key`` as ¶ marks."""
    return f"{title} \n {text}".replace("\n", " ¶ ")


def key_sentence_spans(key: str) -> list[tuple[int, int]]:
    """Sentence spans of a key made from ``joined_for_key``; they match ``split_sentences``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _KEY_SENTENCE_END.finditer(key):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(key):
        spans.append((pos, len(key)))
    return spans


def clause_bounds(key: str) -> list[int]:
    """Start offsets of the clauses of a sentence key (the first is always 0)."""
    return [0, *(m.start() for m in _CLAUSE.finditer(key))]
