"""Sentence and clause splitting on display text and match keys.

Sentences: title and text split at line breaks and at . ! ? ؟ followed by white space; ".."
and "…" join the halves of a headline and do not split, nor does a decimal point (3.5). The
engine splits the match key of the whole item the same way (line breaks become ¶), so key
sentence i is display sentence i. Clauses: a sentence's match key splits where a comma or
semicolon is followed by a contrastive or temporal connective (لكن، ولكن، بينما، فيما، في
حين، إلا أن، غير أن، قبل أن، بعد أن) and at every semicolon; events take status cues and
dates from their own clause.
"""

from __future__ import annotations

import re

# ".." and "…" join the two halves of a headline: they do not end a sentence
# (every alternative starts with a literal character, never a class or a look-behind: the
# regex engine then skips ahead to those characters quickly)
_SENTENCE_END = re.compile(r"\n\s*|!\s+|\?\s+|؟\s+|\.(?<!\.\.)\s+")
_KEY_SENTENCE_END = re.compile(r"¶ ?|! |\? |\.(?<!\.\.) ")
_CLAUSE = re.compile(
    r"(?:[,;]\s*(?:[وف]?لكن|بينما|فيما|في حين|الا ان|غير ان|وبعد ذلك|ثم|قبل ان|بعد ان)\b"
    r"|;|\s(?:ولكن|لكن)\s)"
)


def _pieces(text: str, ends: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of ``text`` between sentence ends; an end's punctuation stays with its sentence."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in ends.finditer(text):
        cut = m.start()
        if text[cut] not in "\n¶":
            cut += 1
        if pos < cut and not text[pos:cut].isspace():
            spans.append((pos, cut))
        pos = m.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def split_sentences(title: str, text: str) -> list[str]:
    """The sentences of the title, then of the text, in order, without empty ones."""
    return [part[s:e].strip() for part in (title, text)
            for s, e in _pieces(part, _SENTENCE_END)]


def joined_for_key(title: str, text: str) -> str:
    """Title and text joined so that line breaks survive ``match_key`` as ¶ marks."""
    return f"{title} \n {text}".replace("\n", " ¶ ")


def key_sentence_spans(key: str) -> list[tuple[int, int]]:
    """Sentence spans of a key made from ``joined_for_key``; they match ``split_sentences``."""
    return _pieces(key, _KEY_SENTENCE_END)


def clause_bounds(key: str) -> list[int]:
    """Start offsets of the clauses of a sentence key (the first is always 0)."""
    if "," not in key and ";" not in key and "لكن" not in key:
        return [0]  # every clause break needs a comma, a semicolon or لكن
    return [0, *(m.start() for m in _CLAUSE.finditer(key))]
