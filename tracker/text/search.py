"""Full-text search over the match key: what is indexed and what a query asks. Pure.

Both the index and the query go through :func:`~tracker.text.normalize.match_key`, so
إنفيديا and انفيديا are one token. Then, in this order:

1. tokens are the runs of letters and digits of the key (``_`` separates, as in SQLite's
   unicode61 tokenizer and PostgreSQL's ``simple`` configuration);
2. an indexed Arabic token that starts with a proclitic (و ف ب ل ك ال وال بال لل …) is also
   indexed without it, so لانفيديا is found by انفيديا; query tokens are not stripped;
3. an item's body also carries the ids of the entities its events involve, so a Latin name
   finds items written in Arabic script;
4. a query term that names an entity of the gazetteer (any spelling, any script) becomes
   an any-of group of all that entity's names and its id; other terms must occur as they are.

A query is a list of groups that must all match; each group is a list of alternative
phrases; each phrase is a tuple of tokens that must be adjacent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from tracker.text.normalize import match_key

_WORD = re.compile(r"[^\W_]+")
# longest first: the first that leaves at least three Arabic letters is stripped
_PROCLITICS = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
_PROCLITIC = re.compile("(?:" + "|".join(_PROCLITICS) + r")(?=[\u0621-\u064a]{3})")

Phrase = tuple[str, ...]
Query = list[list[Phrase]]


def tokens(text: str) -> list[str]:
    """The search tokens of ``text`` (display text or a match key)."""
    return _WORD.findall(match_key(text))


def _stripped(token: str) -> str | None:
    found = _PROCLITIC.match(token)
    return token[found.end():] if found is not None else None


def index_body(texts: Iterable[str], entity_ids: Iterable[str] = ()) -> str:
    """The indexed body of one item: its tokens, proclitic-free variants, entity ids."""
    out: list[str] = []
    for text in texts:
        for tok in tokens(text):
            out.append(tok)
            bare = _stripped(tok)
            if bare is not None:
                out.append(bare)
    for eid in sorted(set(entity_ids)):
        out.append(" ".join(_WORD.findall(eid.lower())))
    return " ".join(out)


class NameIndex:
    """Entity names by match key: resolves any spelling to a canonical id."""

    def __init__(self, names: Mapping[str, Sequence[str]]) -> None:
        """``names``: entity id -> every way it is written (labels included)."""
        self._names = {eid: tuple(ns) for eid, ns in names.items()}
        self._by_key: dict[str, str] = {}
        for eid, ns in self._names.items():
            for n in (eid, eid.replace("_", " "), *ns):
                key = " ".join(tokens(n))
                if key:
                    self._by_key.setdefault(key, eid)

    def resolve(self, name: str) -> str | None:
        """The canonical id written as ``name`` (إنفيديا, Nvidia, nvidia → nvidia), or None."""
        return self._by_key.get(" ".join(tokens(name)))

    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._names))

    def phrases(self, entity_id: str) -> list[Phrase]:
        """Every spelling of an entity as token phrases, its id among them."""
        out = {tuple(_WORD.findall(entity_id.lower()))}
        out |= {tuple(tokens(n)) for n in self._names.get(entity_id, ())}
        return sorted(p for p in out if p)


def parse_query(text: str, names: NameIndex) -> Query:
    """The groups a search asks for (see the module docstring); empty for an empty query.

    Longest names first: ``ميتا إكس`` is one entity, not Meta followed by a letter.
    """
    toks = tokens(text)
    groups: Query = []
    i = 0
    while i < len(toks):
        for size in range(min(4, len(toks) - i), 0, -1):
            eid = names.resolve(" ".join(toks[i:i + size]))
            if eid is not None:
                groups.append(names.phrases(eid))
                i += size
                break
        else:
            groups.append([(toks[i],)])
            i += 1
    return groups


def fts5_expression(query: Query) -> str:
    """The query as an SQLite FTS5 MATCH expression (tokens are letters and digits only)."""
    parts = []
    for group in query:
        alts = ['"' + " ".join(p) + '"' for p in group]
        parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    return " AND ".join(parts)


def tsquery_expression(query: Query) -> str:
    """The query for PostgreSQL's ``to_tsquery('simple', …)``."""
    parts = []
    for group in query:
        alts = ["(" + " <-> ".join(f"'{t}'" for t in p) + ")" for p in group]
        parts.append("(" + " | ".join(alts) + ")")
    return " & ".join(parts)
