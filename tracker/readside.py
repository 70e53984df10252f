"""What the reading commands need, without the daemon's parts.

``tracker timeline``, ``export``, ``items``, ``why`` and the like print labels and read the
store; importing :mod:`tracker.app` (HTTP client, Telegram, pipeline, classifier) and
building the classifier would cost them most of their start-up. This module gives them the
vocabulary (labels and names from the taxonomy and gazetteer files) and the store only.
"""

from __future__ import annotations

from typing import Protocol

from tracker.classify.gazetteer import Gazetteer
from tracker.classify.vocabulary import Vocabulary, load_vocabulary
from tracker.config import Config, check_references
from tracker.store.db import make_engine, upgrade
from tracker.store.desk import DeskStore
from tracker.store.repo import Store
from tracker.text.search import NameIndex


def load_labels(config: Config) -> Vocabulary:
    """The config's event types and entities with their labels (no classifier built);
    checks the watchlists' references as :func:`tracker.app.load_classifier` does."""
    extra = config.get("classifier", "extra_entities")
    vocabulary = load_vocabulary(config.config_file("taxonomy"), config.config_file("entities"),
                                 config.config_file("extra_entities") if extra else None)
    check_references(config, set(vocabulary.event_types()), set(vocabulary.entity_kinds()))
    return vocabulary


class HasGazetteer(Protocol):
    def gazetteer(self) -> Gazetteer: ...


def entity_names(vocabulary: HasGazetteer) -> NameIndex:
    """Every spelling of every gazetteer entity (labels included), for lookups by name
    (an :class:`~tracker.classify.engine.Engine` serves as well)."""
    return NameIndex({e.id: (*e.names, e.label_ar, e.label_en)
                      for e in vocabulary.gazetteer().entities.values()})


def open_store(config: Config, migrate: bool = True) -> Store:
    """The config's store, its schema brought up to date first unless ``migrate`` is false."""
    engine = make_engine(config.database_url)
    if migrate:
        upgrade(engine)
    return Store(engine)


def open_desk(config: Config, migrate: bool = True) -> DeskStore:
    """The desk's read side over the config's database."""
    return DeskStore(open_store(config, migrate))
