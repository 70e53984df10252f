"""The event engine: which events of the US–China AI-chip race an Arabic news item reports.

Public surface: ``Engine`` and ``load_engine``; ``load_vocabulary`` for what a command needs to
print labels and look up names (the taxonomy and gazetteer, without the engine's automaton or
the learned model); ``report`` (JSON and readable output) and ``evaluate`` (scoring against
labelled items) build on it. Everything here is pure: config is read once by ``load_engine``
and the engine never touches the clock, the network or files. Importing this package loads
no engine code: ``Engine`` is imported on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.classify.vocabulary import Vocabulary, load_vocabulary

if TYPE_CHECKING:
    from tracker.classify.engine import Engine

__all__ = ["Engine", "Vocabulary", "load_engine", "load_vocabulary"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from tracker.classify.engine import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_engine(
    taxonomy_path: Path, entities_path: Path, extra_entities_path: Path | None = None,
    model: Path | str | None = None,
) -> Engine:
    """Build an engine from config files; any bad file or rule raises ConfigError.

    ``model``: None for the rule engine alone, "shipped" for the learned type model in the
    package, or the path of a model file written by ``tracker train``.
    """
    from tracker.classify.engine import Engine
    from tracker.classify.gazetteer import load_gazetteer
    from tracker.classify.learned import load_model
    from tracker.classify.rules import load_taxonomy

    learned = None if model is None else load_model(None if model == "shipped" else Path(model))
    return Engine(load_gazetteer(entities_path, extra_entities_path),
                  load_taxonomy(taxonomy_path), learned)
