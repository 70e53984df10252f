"""Shared fixtures: the engine built from the shipped config (once per session).

``engine`` runs each test twice: with the rule engine alone and with the shipped learned type
model deciding the types (what the daemon runs); both must behave as the tests say.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.classify import Engine, load_engine

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = ROOT / "config" / "taxonomy.toml"
ENTITIES = ROOT / "config" / "entities.toml"


@pytest.fixture(scope="session")
def rules_engine() -> Engine:
    """The engine with the shipped taxonomy and gazetteer, the rules deciding alone."""
    return load_engine(TAXONOMY, ENTITIES)


@pytest.fixture(scope="session")
def model_engine(rules_engine: Engine) -> Engine:
    """The same engine with the shipped learned type model."""
    return load_engine(TAXONOMY, ENTITIES, model="shipped")


@pytest.fixture(scope="session", params=["rules", "model"])
def engine(request: pytest.FixtureRequest, rules_engine: Engine, model_engine: Engine
           ) -> Engine:
    return rules_engine if request.param == "rules" else model_engine
