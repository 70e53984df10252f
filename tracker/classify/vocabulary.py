"""The names a command prints and looks up: event types and entities with their labels.

A :class:`Vocabulary` reads the same taxonomy and gazetteer files as the engine but builds
neither its Aho-Corasick automaton nor the learned model, so ``tracker timeline``, ``export``
or ``items`` pay for the files only. The engine answers the same questions the same way
(:class:`~tracker.classify.engine.Engine` has these methods too).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from tracker.classify.gazetteer import Gazetteer, load_gazetteer
from tracker.classify.rules import Taxonomy, load_taxonomy


class Vocabulary:
    """Event types and entities of a taxonomy and gazetteer, with their labels."""

    def __init__(self, gazetteer: Gazetteer, taxonomy: Taxonomy) -> None:
        self._gaz = gazetteer
        self._tax = taxonomy

    def event_types(self) -> tuple[str, ...]:
        """The event type ids of the taxonomy, in file order."""
        return tuple(self._tax.types)

    def entity_kinds(self) -> Mapping[str, str]:
        """Canonical entity id -> kind."""
        return MappingProxyType({e.id: e.kind for e in self._gaz.entities.values()})

    def gazetteer(self) -> Gazetteer:
        """The entities (for name lookups)."""
        return self._gaz

    def labels(self, type_id: str, lang: str) -> str:
        """The Arabic (``ar``) or English label of an event type; KeyError if unknown."""
        t = self._tax.types[type_id]
        return t.label_ar if lang == "ar" else t.label_en

    def entity_label(self, entity_id: str, lang: str) -> str:
        """The display name of an entity; the id itself if unknown."""
        ent = self._gaz.entities.get(entity_id)
        if ent is None:
            return entity_id
        return ent.label_ar if lang == "ar" else ent.label_en


def load_vocabulary(taxonomy_path: Path, entities_path: Path,
                    extra_entities_path: Path | None = None) -> Vocabulary:
    """Read the taxonomy and gazetteer files (any bad file raises ConfigError)."""
    return Vocabulary(load_gazetteer(entities_path, extra_entities_path),
                      load_taxonomy(taxonomy_path))
