"""One Aho-Corasick automaton over every surface form of every entity and lexicon group.

Order of work for one text: replace punctuation in the match key with spaces (same length, so
offsets stay valid); run the automaton once over the padded text, where every surface is stored
padded with spaces, so only whole-token hits come out (text and surfaces both written
backwards: the trie then shares the tails of a word's many proclitic spellings, half the
nodes); add the hits of the regex patterns (product codes, figures) in one combined regex
pass; among overlapping entity hits keep the longest (ميتا إكس wins over ميتا). Hits carry
character offsets and token indices.
"""

from __future__ import annotations

import bisect
import importlib
import itertools
import operator
import re
import string
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import ahocorasick

from tracker.classify.gazetteer import Gazetteer
from tracker.classify.rules import Taxonomy
from tracker.classify.surface import PREPOSITIONAL, attach, expand

_PUNCT = re.compile("[" + re.escape(string.punctuation + "“”‘’–—…•·¶") + "]")
_TOKEN = re.compile(r"\S+")
_OTHER_SPACE = re.compile(r"[^\S ]")  # white space other than " " (str.split agrees with \s)
_BY_SPAN = operator.itemgetter(0, 1)  # Hit.start, Hit.end
_DIGITS = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")  # one class: the regex engine skips ahead to it quickly
_MAX_PREFIXES = 64
_NEEDS_DIGIT = re.compile(r"\\d|[0-9]")  # a pattern that contains a digit matches near digits
_BEFORE, _AFTER = 16, 32  # the window around a digit run in which such patterns are tried


def _loose(forms: list[str]) -> list[str]:
    """Multi-word names with a punctuation mark between words (صحيفة «الشعب»): in the scan
    text the mark became a space, so each gap may hold two spaces (names of up to 4 words)."""
    out: list[str] = []
    for form in forms:
        words = form.split(" ")
        if 1 < len(words) <= 4:
            for gaps in itertools.product((" ", "  "), repeat=len(words) - 1):
                joined = words[0] + "".join(g + w for g, w in zip(gaps, words[1:], strict=True))
                if joined != form:
                    out.append(joined)
    return out


def _digit_runs(key: str) -> Iterator[re.Match[str]]:
    """``_DIGITS.finditer(key)``, found faster (a one-class search, then the run)."""
    found = _DIGIT.search(key)
    while found is not None:
        run = _DIGITS.match(key, found.start())
        if run is None:  # cannot happen: a digit starts a run
            return
        yield run
        found = _DIGIT.search(key, run.end())


def _first_literals(items: list[Any], flags: int) -> set[str] | None:
    """Literal strings one of which every match of the parsed regex ``items`` starts with
    (after look-behinds and anchors), or None when that cannot be told."""
    parser = importlib.import_module("re._parser")
    i = 0
    while i < len(items) and (items[i][0] is parser.AT or (
            items[i][0] in (parser.ASSERT, parser.ASSERT_NOT) and items[i][1][0] < 0)):
        i += 1  # zero-width and before the first character
    run: list[str] = []
    while i < len(items) and items[i][0] is parser.LITERAL:
        run.append(chr(items[i][1]))
        i += 1
    head = "".join(run)
    if i == len(items):
        return {head} if head else None
    op, av = items[i]
    rest: set[str] | None = None
    if op is parser.BRANCH:
        rest = set()
        for alt in av[1]:
            sub = _first_literals(list(alt), flags)
            if sub is None:
                rest = None
                break
            rest |= sub
    elif op is parser.SUBPATTERN and not (av[1] | flags) & re.IGNORECASE:
        rest = _first_literals(list(av[3]), flags)
    elif op is parser.IN and all(item[0] is parser.LITERAL for item in av):
        rest = {chr(item[1]) for item in av}
    if rest is None or len(rest) > _MAX_PREFIXES:
        return {head} if head else None
    return {head + r for r in rest}


def _prefilter(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """A regex of the literal starts of every match of ``regex`` (None if unknown)."""
    if regex.flags & re.IGNORECASE:
        return None
    try:
        parsed = importlib.import_module("re._parser").parse(regex.pattern, regex.flags)
        if parsed.state.flags & re.IGNORECASE:
            return None
        starts = _first_literals(list(parsed), parsed.state.flags)
    except Exception:  # an unusual regex: no prefilter, the same results
        return None
    if not starts or "" in starts:
        return None
    return re.compile("|".join(re.escape(p) for p in sorted(starts, key=len, reverse=True)))


def _finditer(regex: re.Pattern[str], pre: re.Pattern[str] | None, key: str
              ) -> Iterator[re.Match[str]]:
    """``regex.finditer(key)``, trying ``regex`` only where ``pre`` finds a possible start."""
    if pre is None:
        yield from regex.finditer(key)
        return
    pos = 0
    while (cand := pre.search(key, pos)) is not None:
        m = regex.match(key, cand.start())
        if m is None:
            pos = cand.start() + 1
            continue
        yield m
        pos = m.end() if m.end() > m.start() else m.end() + 1


def _combine(patterns: list[str], indices: list[int]) -> re.Pattern[str] | None:
    """One alternation of the chosen patterns, each in a group named p<index>."""
    if not indices:
        return None
    return re.compile("|".join(f"(?P<p{i}>{patterns[i]})" for i in indices))

ENTITY = "e"
LEXICON = "l"


Raw = tuple[int, int, str, str, bool]  # start, end, kind, name, future
Payload = tuple[str, str, bool]  # kind, name, future
_Value = tuple[int, tuple[Payload, ...], int]  # padded surface length, payloads, group bits


class Hit(NamedTuple):
    """One whole-token occurrence of an entity or a lexicon group in a text."""

    start: int  # character offsets in the match key
    end: int
    token: int  # index of the first token
    last_token: int  # index of the last token
    kind: str  # ENTITY or LEXICON
    name: str  # entity id or group name
    future: bool = False  # a verb form with the future prefix س


def scan_text(key: str) -> str:
    """The match key with punctuation turned into spaces (offsets preserved)."""
    return _PUNCT.sub(" ", key)


def token_starts(scan: str, plain: bool = False) -> tuple[list[int], list[str]]:
    """The start offset of every token of ``scan`` and the tokens (``scan.split()``).

    ``plain``: the caller knows that " " is the only white space in ``scan`` (a scan text of
    a match key), so that need not be checked.
    """
    if not plain and _OTHER_SPACE.search(scan) is not None:
        return [m.start() for m in _TOKEN.finditer(scan)], scan.split()
    pieces = scan.split(" ")  # piece i starts after the pieces before it and their spaces
    starts: list[int] = []
    pos = 0
    for piece in pieces:
        if piece:
            starts.append(pos)
        pos += len(piece) + 1
    return starts, list(filter(None, pieces))


class Matcher:
    """Finds entity and lexicon hits; build once, use from any thread (read-only)."""

    def __init__(self, gazetteer: Gazetteer, taxonomy: Taxonomy) -> None:
        # one bit per lexicon group, so that "which groups occur" is one integer
        self.bit = {name: 1 << i for i, name in enumerate(sorted(taxonomy.groups))}
        automaton: Any = ahocorasick.Automaton()
        # ~75,000 surfaces share a few hundred payloads: one object each, not one per word
        shared: dict[tuple[int, tuple[Payload, ...]], _Value] = {}

        def add(forms: Iterable[str], kind: str, name: str, future: bool) -> None:
            # Each surface goes straight into the automaton, written backwards (a word's
            # proclitic spellings share its tail, which a forward trie would copy: 170,000
            # nodes instead of 349,000); a surface met again gets the union of payloads.
            payload = (kind, name, future)
            for form in forms:
                surface = f" {form} "[::-1]
                old: _Value | None = automaton.get(surface, None)
                if old is not None and payload in old[1]:
                    continue
                items = (payload,) if old is None else tuple(sorted({*old[1], payload}))
                value = shared.get((len(surface), items))
                if value is None:
                    value = shared[len(surface), items] = (len(surface), items, self.mask(
                        n for k, n, _f in items if k == LEXICON))
                automaton.add_word(surface, value)

        prepositional: set[str] = set()
        for ent in gazetteer.entities.values():
            for written in ent.names:
                plain, _ = expand(written, "name")
                add(plain, ENTITY, ent.id, False)
                add(_loose(plain), ENTITY, ent.id, False)
                if plain:
                    prepositional.update(attach(plain[0].split(" ")[0], PREPOSITIONAL))
        for group in taxonomy.groups.values():
            for written in group.forms:
                plain, fut = expand(written, group.word_class)
                add(plain, LEXICON, group.name, False)
                add(fut, LEXICON, group.name, True)
        self.size = len(automaton)
        shared.clear()
        automaton.make_automaton()
        self._automaton = automaton
        patterns: list[str] = []
        self._pattern_targets: list[tuple[str, str]] = []  # pattern index -> (kind, name)
        for ent in gazetteer.entities.values():
            for pat in ent.patterns:
                patterns.append(pat)
                self._pattern_targets.append((ENTITY, ent.id))
        for group in taxonomy.groups.values():
            for pat in group.patterns:
                patterns.append(pat)
                self._pattern_targets.append((LEXICON, group.name))
        near_digits = [i for i, p in enumerate(patterns) if _NEEDS_DIGIT.search(p)]
        anywhere = [i for i in range(len(patterns)) if i not in near_digits]
        self._near_digits = _combine(patterns, near_digits)
        self._anywhere = _combine(patterns, anywhere)
        self._anywhere_pre = _prefilter(self._anywhere) if self._anywhere is not None else None
        self.pattern_groups = frozenset(n for k, n in self._pattern_targets if k == LEXICON)
        # first tokens of entity names written with a preposition (لواشنطن، بالصين، للصين)
        self.prepositional = frozenset(prepositional)

    def scan(self, scan: str) -> tuple[list[Raw], int]:
        """Automaton hits of a scan text (offsets in ``scan``) and the bits of groups hit."""
        raw: list[Raw] = []
        add = raw.append
        groups = 0
        last = len(scan) + 1  # the padded text, backwards: its index i is scan's last - i
        for end, (length, items, mask) in self._automaton.iter(f" {scan} "[::-1]):
            # the backwards surface " mrof " ends at `end`; the form spans [s, s + length - 2)
            s = last - end
            for kind, name, future in items:
                add((s, s + length - 2, kind, name, future))
            groups |= mask
        return raw, groups

    def mask(self, names: Iterable[str]) -> int:
        """The bits of some lexicon groups."""
        out = 0
        for name in names:
            out |= self.bit.get(name, 0)
        return out

    def patterns(self, key: str) -> list[Raw]:
        """Regex hits in a match key; digit patterns are tried only around digit runs."""
        found: dict[tuple[int, int, int], None] = {}
        if self._near_digits is not None:
            near = self._near_digits
            for d in _digit_runs(key):
                hi = min(len(key), d.end() + _AFTER)
                # a pattern starts at a token (or just after its punctuation) shortly before
                # the digits, or at the digits themselves
                starts = {d.start()}
                pos = d.start()
                while pos > 0 and d.start() - pos <= _BEFORE:
                    pos = key.rfind(" ", 0, pos - 1) + 1
                    starts.add(pos)
                    if pos < len(key) and not key[pos].isalnum():
                        starts.add(pos + 1)
                    if pos == 0:
                        break
                for start in starts:
                    m = near.match(key, start, hi)
                    if m is not None:
                        found[m.start(), m.end(), int((m.lastgroup or "p0")[1:])] = None
        if self._anywhere is not None:
            for m in _finditer(self._anywhere, self._anywhere_pre, key):
                found[m.start(), m.end(), int((m.lastgroup or "p0")[1:])] = None
        out: list[Raw] = []
        for start, end, index in found:
            kind, name = self._pattern_targets[index]
            out.append((start, end, kind, name, False))
        return out

    def resolve(
        self, key: str, scan: str, raw: list[Raw], pattern_raw: list[Raw] | None = None
    ) -> tuple[list[Hit], list[int]]:
        """Add the regex hits, keep the longest of overlapping entities, index tokens.

        Returns the hits sorted by position and the start offset of every token of ``scan``.
        """
        starts = token_starts(scan)[0]
        return self.resolve_at(key, raw, pattern_raw, starts), starts

    def resolve_at(
        self, key: str, raw: list[Raw], pattern_raw: list[Raw] | None, starts: list[int]
    ) -> list[Hit]:
        """``resolve`` with the token starts of the scan text already known."""
        raw = raw + (self.patterns(key) if pattern_raw is None else pattern_raw)
        entities = sorted((r for r in raw if r[2] == ENTITY), key=lambda r: (r[0], r[0] - r[1]))
        kept: list[Raw] = []
        for r in entities:
            start, end = r[0], r[1]
            for k in kept:
                if k[0] <= start and end <= k[1]:
                    break  # inside a kept entity
            else:
                if kept:
                    kept = [k for k in kept if not (start <= k[0] and k[1] <= end)]
                kept.append(r)
        bis = bisect.bisect_right
        new = tuple.__new__
        out = [new(Hit, (s, e, bis(starts, s) - 1, bis(starts, e - 1 if e > s else s) - 1, kind,
                         name, fut))
               for s, e, kind, name, fut in kept + [r for r in raw if r[2] == LEXICON]]
        out.sort(key=_BY_SPAN)
        return out

    def hits(self, key: str) -> list[Hit]:
        """All hits in one match-key text, entities de-overlapped, sorted by position."""
        scan = scan_text(key)
        return self.resolve(key, scan, self.scan(scan)[0])[0]
