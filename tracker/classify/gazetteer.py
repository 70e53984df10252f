"""The entity gazetteer: canonical ids, their kind, tags and every way the news writes them.

Order of decisions when loading: read the shipped file, then the operator's extra file (an
entry with a known id adds aliases to it; a new id adds an entity); check each entry (kind,
names, regexes, parent) and name the file and key of the first problem. Matching itself
happens in ``matcher``: Arabic names get proclitics (لإنفيديا، وبكين) but no enclitics, Latin
names and codes are matched as whole tokens, product codes may also be regexes over the match
key (``h ?20``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.classify._toml import read_toml, str_list, text
from tracker.errors import ConfigError

KINDS: tuple[str, ...] = (
    "company", "product", "us_gov", "china_gov", "regulator", "country", "person", "organization",
)


@dataclass(frozen=True)
class Entity:
    """One canonical entity and its names."""

    id: str
    kind: str
    tags: frozenset[str]
    label_ar: str
    label_en: str
    names: tuple[str, ...]  # Arabic and Latin spellings, as written in config
    patterns: tuple[str, ...]  # regexes over the match key
    parent: str | None = None

    @property
    def labels(self) -> frozenset[str]:
        """What a rule may ask for with ``@label``: the id, the kind and the tags."""
        return self.tags | {self.kind, self.id}


@dataclass(frozen=True)
class Gazetteer:
    """All entities by id."""

    entities: Mapping[str, Entity]


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _entry(file: str, eid: str, raw: Any, known: Entity | None) -> Entity:
    key = f"entities.{eid}"
    if not _ID.match(eid):
        raise ConfigError(file, key, "id must be lower_snake_case ascii")
    if not isinstance(raw, dict):
        raise ConfigError(file, key, "must be a table")
    unknown = set(raw) - {"kind", "tags", "label_ar", "label_en", "ar", "latin", "patterns",
                          "parent"}
    if unknown:
        raise ConfigError(file, key, f"unknown keys {sorted(unknown)}")
    names = str_list(raw.get("ar"), file, f"{key}.ar") + str_list(
        raw.get("latin"), file, f"{key}.latin")
    patterns = str_list(raw.get("patterns"), file, f"{key}.patterns")
    for i, pat in enumerate(patterns):
        try:
            re.compile(pat)
        except re.error as exc:
            raise ConfigError(file, f"{key}.patterns[{i}]", f"bad regex: {exc}") from None
    tags = frozenset(str_list(raw.get("tags"), file, f"{key}.tags"))
    if known is not None:
        kind = text(raw.get("kind"), file, f"{key}.kind", known.kind)
        if kind != known.kind:
            raise ConfigError(file, f"{key}.kind", f"{kind!r} contradicts shipped {known.kind!r}")
        return Entity(known.id, kind, known.tags | tags, known.label_ar, known.label_en,
                      known.names + tuple(names), known.patterns + tuple(patterns), known.parent)
    kind = text(raw.get("kind"), file, f"{key}.kind")
    if kind not in KINDS:
        raise ConfigError(file, f"{key}.kind", f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if not names and not patterns:
        raise ConfigError(file, key, "needs at least one of ar, latin, patterns")
    label_en = text(raw.get("label_en"), file, f"{key}.label_en", names[0] if names else eid)
    label_ar = text(raw.get("label_ar"), file, f"{key}.label_ar", label_en)
    parent = raw.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise ConfigError(file, f"{key}.parent", "must be an entity id")
    return Entity(eid, kind, tags, label_ar, label_en, tuple(names), tuple(patterns), parent)


def _merge(path: Path, into: dict[str, Entity]) -> None:
    file = str(path)
    data = read_toml(path)
    table = data.get("entities")
    if not isinstance(table, dict) or not table:
        raise ConfigError(file, "entities", "missing or empty [entities] table")
    for eid, raw in table.items():
        into[eid] = _entry(file, eid, raw, into.get(eid))


def load_gazetteer(path: Path, extra: Path | None = None) -> Gazetteer:
    """Load the shipped gazetteer and, optionally, the operator's extra entities."""
    entities: dict[str, Entity] = {}
    _merge(path, entities)
    if extra is not None:
        _merge(extra, entities)
    for ent in entities.values():
        if ent.parent is not None and ent.parent not in entities:
            raise ConfigError(str(extra or path), f"entities.{ent.id}.parent",
                              f"unknown entity {ent.parent!r}")
    return Gazetteer(entities)
