"""How the engine sees one sentence: its match-key span, tokens and dates, and the display
text its evidence is quoted from."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime

from tracker.classify.matcher import (
    Hit,
    scan_text,
)
from tracker.classify.sentences import (
    split_sentences,
)
from tracker.classify.temporal import FoundDate, find_dates
from tracker.model import Article
from tracker.text.normalize import match_key

_STRIP = " ،,.;:؛!?؟\"'«»()[]"


class _Display:
    """The display sentences of an item, split only when a first event needs them."""

    def __init__(self, article: Article, count: int) -> None:
        self._article, self._count = article, count
        self._sentences: list[str] | None = None

    def sentence(self, n: int) -> str | None:
        """Display sentence ``n``, or None if the display and key splits disagree."""
        if self._sentences is None:
            self._sentences = split_sentences(self._article.title, self._article.text)
        return self._sentences[n] if len(self._sentences) == self._count else None


class _Sentence:
    """One sentence of an item: its span in the item's key and, if aligned, its display text."""

    def __init__(self, key: str, start: int, end: int, first_token: int, tokens: list[str],
                 starts: list[int], display: _Display, index: int) -> None:
        self.key, self.start, self.end = key, start, end
        self.first_token, self.tokens, self.starts = first_token, tokens, starts
        self._display, self._index = display, index
        self._owner: list[int] | None = None
        self._words: list[str] = []
        self._phrases: dict[tuple[int, int], str] = {}  # (first, last) sentence token -> phrase
        self.entities: list[Hit] = []
        self._dates: dict[tuple[int, int, bool], list[FoundDate]] = {}

    def dates(
        self, start: int, end: int, published: datetime | None, forward: bool
    ) -> list[FoundDate]:
        """The date expressions of one clause (computed once per clause and direction)."""
        cache_key = (start, end, forward)
        if cache_key not in self._dates:
            text = self.key[start:end]
            # find_dates tries each pattern only where the word it needs occurs: a text
            # without any time hint (temporal.TIME_HINT) costs a few quick searches
            self._dates[cache_key] = find_dates(text, published, forward)
        return self._dates[cache_key]

    @property
    def display(self) -> str | None:
        """The display text of this sentence (None if it cannot be lined up)."""
        return self._display.sentence(self._index)

    def text(self) -> str:
        """The display text, or the match key when the two splits disagree."""
        shown = self.display
        return shown if shown is not None else self.key[self.start:self.end]

    def evidence(self, hits: Sequence[Hit]) -> tuple[str, ...]:
        """The display-text phrases of ``hits``: the words of the sentence they cover."""
        if self._owner is None:
            shown = self.display
            words = self._words = shown.split() if shown is not None else []
            count = bisect.bisect_left(self.starts, self.end) - self.first_token
            if len(words) == count:  # the usual case: one token per word
                self._owner = list(range(count))
            else:
                owner: list[int] = []  # sentence token index -> display word index
                for i, word in enumerate(words):
                    owner.extend([i] * len(scan_text(match_key(word)).split()))
                self._owner = owner
        words = self._words
        out: list[str] = []
        for h in hits:
            first, last = h.token - self.first_token, h.last_token - self.first_token
            if first >= 0 and last < len(self._owner):
                cached = self._phrases.get((first, last))
                if cached is None:
                    cached = self._phrases[first, last] = " ".join(
                        words[self._owner[first]: self._owner[last] + 1]).strip(_STRIP)
                phrase = cached
            else:
                phrase = self.key[h.start:h.end]
            if phrase and phrase not in out:
                out.append(phrase)
        return tuple(out)
