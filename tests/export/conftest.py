"""Fixtures of the export tests: a generated week of 200 entries and its labels."""

from __future__ import annotations

import pytest
from export_fixtures import FakeLabels, make_entries

from tracker.model import TimelineEntry


@pytest.fixture(scope="session")
def labels() -> FakeLabels:
    """Arabic and English labels of the generated taxonomy and entities."""
    return FakeLabels()


@pytest.fixture(scope="session")
def entries200() -> list[TimelineEntry]:
    """200 entries in 2025-W35 with hostile headlines, outlets and labels."""
    return make_entries(200)
