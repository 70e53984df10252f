"""Sentence and clause splitting on display text and match keys.

Sentences: the title is one sentence; the text splits at line breaks and at . ! ? ؟ … when
they end a word (a full stop between digits, 3.5, is not an end). Clauses: a sentence's match
key splits where a comma or semicolon is followed by a contrastive or temporal connective
(لكن، ولكن، بينما، فيما، في حين، إلا أن، غير أن) and at every semicolon; events take their
status cues and dates from their own clause.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?؟…])(?<!\d\.)\s+|\s*\n+\s*")
_CLAUSE = re.compile(
    r"(?:[,;]\s*(?:[وف]?لكن|بينما|فيما|في حين|الا ان|غير ان|وبعد ذلك|ثم)\b|;|\s(?:ولكن|لكن)\s)"
)


def split_sentences(title: str, text: str) -> list[str]:
    """The title (if any) and the sentences of the text, in order, without empty ones."""
    out = [title.strip()] if title.strip() else []
    out.extend(s.strip() for s in _SENTENCE_END.split(text) if s and s.strip())
    return out


def clause_bounds(key: str) -> list[int]:
    """Start offsets of the clauses of a sentence key (the first is always 0)."""
    return [0, *(m.start() for m in _CLAUSE.finditer(key))]
