"""Fixtures shared by the whole suite: databases (SQLite always, PostgreSQL when
``TRACKER_TEST_DATABASE_URL`` is set), a clock tests set by hand, and paths."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tracker.store.db import make_engine, upgrade
from tracker.store.repo import Store

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PG_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock set to 2025-08-29 12:00 UTC."""
    return Clock(datetime(2025, 8, 29, 12, 0, tzinfo=UTC))


def _pg_schema_url(base: str) -> Iterator[str]:
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    url = base.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite in a temp folder, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TRACKER_TEST_DATABASE_URL "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
    yield from _pg_schema_url(PG_URL)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database in a temp folder."""
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def migrated_store(url: str) -> Iterator[Store]:
    """A Store on ``url`` with the schema migrated; disposed when the generator closes."""
    engine = make_engine(url)
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a clean skip where it is absent."""
    if not (SHARED_DATA / "seed_article_ar.txt").exists():
        pytest.skip("../shared/data is absent (texts that belong to their publishers)")
    return SHARED_DATA
