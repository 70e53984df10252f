"""The taxonomy: lexicon groups, event types and the rules that define each type.

A lexicon group is a named list of Arabic forms with a word class (``noun``, ``verb``,
``name``, ``phrase``, ``exact``) that decides which clitics are generated, plus optional regexes
over the match key. A rule belongs to one event type and lists requirements; each requirement
is ``"a|b|@label"``: any of those lexicon groups, or an entity carrying that label (its id,
kind or tag). A rule fires in a clause when every requirement is met there (entities may also
come from elsewhere in the sentence), no ``exclude`` group occurs in the clause, and the
lexicon hits lie within ``near`` tokens of each other. Groups named ``cue_*`` drive status,
recap and third-party decisions (see ``status``).

Loading checks, in order: the file parses; every group has a valid class, forms or patterns and
compilable regexes; every type has both labels and at least one rule; every rule names known
groups. The first problem raises ConfigError naming the file and the rule or key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.classify._toml import read_toml, str_list, text
from tracker.classify.surface import WORD_CLASSES
from tracker.errors import ConfigError

CUE_GROUPS: tuple[str, ...] = (
    "cue_denial", "cue_negation", "cue_hedge", "cue_modal", "cue_planned", "cue_recap",
    "cue_recap_kana", "cue_confirmed", "cue_third_party", "cue_background",
)


@dataclass(frozen=True)
class LexiconGroup:
    """A named list of forms sharing one word class, plus regexes over the match key."""

    name: str
    word_class: str
    forms: tuple[str, ...]
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requirement:
    """Any of these lexicon groups, or any entity carrying one of these labels."""

    groups: tuple[str, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """One way of recognising an event type in a clause."""

    id: str
    type: str
    require: tuple[Requirement, ...]
    exclude: tuple[str, ...]  # lexicon groups that block the rule in the clause
    actor: tuple[str, ...]
    near: int
    confidence: float
    exclude_labels: tuple[str, ...] = ()  # entity labels that block the rule in the clause
    ignore_denial_by: tuple[str, ...] = ()  # a denial whose subject has these labels is ignored


@dataclass(frozen=True)
class EventType:
    """An event type with its labels and rules."""

    id: str
    label_ar: str
    label_en: str
    rules: tuple[Rule, ...]
    model: bool = True  # False: decided by the rules alone, even when the model knows it
    require_any: tuple[str, ...] = ()  # entity labels one of which the sentence must name
    veto: tuple[str, ...] = ()  # lexicon groups that block the type in a sentence


@dataclass(frozen=True)
class Taxonomy:
    """All lexicon groups and event types of one taxonomy file."""

    groups: dict[str, LexiconGroup]
    types: dict[str, EventType]


def _group(file: str, name: str, raw: Any) -> LexiconGroup:
    key = f"lexicon.{name}"
    if not isinstance(raw, dict):
        raise ConfigError(file, key, "must be a table")
    unknown = set(raw) - {"class", "forms", "patterns"}
    if unknown:
        raise ConfigError(file, key, f"unknown keys {sorted(unknown)}")
    word_class = text(raw.get("class"), file, f"{key}.class", "noun")
    if word_class not in WORD_CLASSES:
        raise ConfigError(file, f"{key}.class", f"unknown class {word_class!r}")
    forms = str_list(raw.get("forms"), file, f"{key}.forms")
    patterns = str_list(raw.get("patterns"), file, f"{key}.patterns")
    for i, pat in enumerate(patterns):
        try:
            re.compile(pat)
        except re.error as exc:
            raise ConfigError(file, f"{key}.patterns[{i}]", f"bad regex: {exc}") from None
    if not forms and not patterns:
        raise ConfigError(file, key, "needs forms or patterns")
    return LexiconGroup(name, word_class, tuple(forms), tuple(patterns))


def _rule(file: str, type_id: str, index: int, raw: Any, groups: dict[str, LexiconGroup]) -> Rule:
    rid = raw.get("id") if isinstance(raw, dict) else None
    key = f"types.{type_id}.rules[{index}]" + (f" ({rid})" if isinstance(rid, str) else "")
    if not isinstance(raw, dict):
        raise ConfigError(file, key, "must be a table")
    unknown = set(raw) - {"id", "require", "exclude", "actor", "near", "confidence",
                          "ignore_denial_by"}
    if unknown:
        raise ConfigError(file, key, f"unknown keys {sorted(unknown)}")
    require: list[Requirement] = []
    for item in str_list(raw.get("require"), file, f"{key}.require"):
        alts = [a.strip() for a in item.split("|") if a.strip()]
        names = tuple(a for a in alts if not a.startswith("@"))
        labels = tuple(a[1:] for a in alts if a.startswith("@"))
        for name in names:
            if name not in groups:
                raise ConfigError(file, f"{key}.require", f"unknown lexicon group {name!r}")
        if not alts or any(not label for label in labels):
            raise ConfigError(file, f"{key}.require", f"empty alternative in {item!r}")
        require.append(Requirement(names, labels))
    if not any(r.groups and not r.labels for r in require):
        raise ConfigError(file, f"{key}.require",
                          "needs at least one lexicon-only requirement (a trigger)")
    excluded = str_list(raw.get("exclude"), file, f"{key}.exclude")
    exclude = [e for e in excluded if not e.startswith("@")]
    exclude_labels = [e[1:] for e in excluded if e.startswith("@") and e[1:]]
    for name in exclude:
        if name not in groups:
            raise ConfigError(file, f"{key}.exclude", f"unknown lexicon group {name!r}")
    near = raw.get("near", 12)
    if not isinstance(near, int) or isinstance(near, bool) or near < 0:
        raise ConfigError(file, f"{key}.near", "must be a non-negative integer")
    confidence = raw.get("confidence", 0.8)
    if not isinstance(confidence, int | float) or not 0 < confidence <= 1:
        raise ConfigError(file, f"{key}.confidence", "must be a number in (0, 1]")
    actor = str_list(raw.get("actor"), file, f"{key}.actor")
    ignore = str_list(raw.get("ignore_denial_by"), file, f"{key}.ignore_denial_by")
    return Rule(str(rid or f"{type_id}.{index}"), type_id, tuple(require), tuple(exclude),
                tuple(actor), near, float(confidence), tuple(exclude_labels), tuple(ignore))


def _names(file: str, key: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise ConfigError(file, key, "must be a list of names")
    return tuple(raw)


def load_taxonomy(path: Path) -> Taxonomy:
    """Read and check a taxonomy file (see the module docstring for the order of checks)."""
    file = str(path)
    data = read_toml(path)
    raw_groups = data.get("lexicon")
    if not isinstance(raw_groups, dict) or not raw_groups:
        raise ConfigError(file, "lexicon", "missing or empty [lexicon] table")
    groups = {name: _group(file, name, raw) for name, raw in raw_groups.items()}
    raw_types = data.get("types")
    if not isinstance(raw_types, dict) or not raw_types:
        raise ConfigError(file, "types", "missing or empty [types] table")
    types: dict[str, EventType] = {}
    for type_id, raw in raw_types.items():
        key = f"types.{type_id}"
        if not isinstance(raw, dict):
            raise ConfigError(file, key, "must be a table")
        unknown = set(raw) - {"label_ar", "label_en", "rules", "model", "require_any", "veto"}
        if unknown:
            raise ConfigError(file, key, f"unknown keys {sorted(unknown)}")
        rules_raw = raw.get("rules")
        if not isinstance(rules_raw, list) or not rules_raw:
            raise ConfigError(file, f"{key}.rules", "needs at least one [[rules]] entry")
        rules = tuple(_rule(file, type_id, i, r, groups) for i, r in enumerate(rules_raw))
        use_model = raw.get("model", True)
        if not isinstance(use_model, bool):
            raise ConfigError(file, f"{key}.model", "must be true or false")
        veto = _names(file, f"{key}.veto", raw.get("veto", []))
        for g in veto:
            if g not in groups:
                raise ConfigError(file, f"{key}.veto", f"unknown lexicon group {g!r}")
        types[type_id] = EventType(type_id, text(raw.get("label_ar"), file, f"{key}.label_ar"),
                                   text(raw.get("label_en"), file, f"{key}.label_en"), rules,
                                   use_model,
                                   _names(file, f"{key}.require_any",
                                          raw.get("require_any", [])),
                                   veto)
    return Taxonomy(groups, types)
