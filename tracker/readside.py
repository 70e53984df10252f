"""What the reading commands need, without the daemon's parts.

``tracker timeline``, ``export``, ``items``, ``why`` and the like print labels and read the
store; importing :mod:`tracker.app` (HTTP client, Telegram, pipeline, classifier) and
building the classifier would cost them most of their start-up. This module gives them the
vocabulary (labels and names from the taxonomy and gazetteer files) and the store only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from tracker.classify.gazetteer import Gazetteer
from tracker.classify.vocabulary import Vocabulary, load_vocabulary
from tracker.config import Config, check_references
from tracker.model import TimelineEntry
from tracker.text.search import NameIndex

if TYPE_CHECKING:
    from tracker.store.desk import DeskStore
    from tracker.store.repo import Store


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
    from tracker.store.db import make_engine, upgrade
    from tracker.store.repo import Store

    engine = make_engine(config.database_url)
    if migrate:
        upgrade(engine)
    return Store(engine)


def open_desk(config: Config, migrate: bool = True) -> DeskStore:
    """The desk's read side over the config's database."""
    from tracker.store.desk import DeskStore

    return DeskStore(open_store(config, migrate))


class TimelineReader(Protocol):
    """What ``tracker timeline`` reads: :meth:`Store.timeline
    <tracker.store.repo.Store.timeline>`, then :meth:`close`."""

    def timeline(self, *, entity: str | None = ..., types: Sequence[str] = ...,
                 since: datetime | None = ..., until: datetime | None = ...,
                 statuses: Sequence[str] = ..., limit: int | None = ...,
                 newest_first: bool = ...) -> list[TimelineEntry]: ...

    def close(self) -> None: ...


class _StoreTimeline:
    def __init__(self, store: Store) -> None:
        self.timeline = store.timeline
        self._engine = store.engine

    def close(self) -> None:
        self._engine.dispose()


def open_timeline(config: Config) -> TimelineReader:
    """The quickest reader of the config's timeline: ``sqlite3`` alone for a migrated SQLite
    file (:mod:`tracker.store.lite`, no SQLAlchemy imported), else the full store (which
    migrates first)."""
    from tracker.store.lite import open_lite

    return open_lite(config.database_url) or _StoreTimeline(open_store(config))
