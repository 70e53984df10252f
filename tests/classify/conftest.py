"""Shared fixtures: the engine built from the shipped config (once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.classify import Engine, load_engine

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = ROOT / "config" / "taxonomy.toml"
ENTITIES = ROOT / "config" / "entities.toml"


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine with the shipped taxonomy and gazetteer."""
    return load_engine(TAXONOMY, ENTITIES)
