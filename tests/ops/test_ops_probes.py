"""The SQL ping used by /healthz, against a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from tracker.ops.probes import sql_ping


def test_ping_is_true_on_a_reachable_database(database_url: str) -> None:
    """SELECT 1 on a reachable database (SQLite, and PostgreSQL where configured) is true."""
    engine = create_engine(database_url)
    try:
        assert sql_ping(engine)() is True
    finally:
        engine.dispose()


def test_ping_raises_on_an_unreachable_database() -> None:
    """A database that cannot be reached raises, which /healthz reports as unreachable."""
    engine = create_engine("sqlite:////nonexistent-dir/x/tracker.db")
    with pytest.raises(OperationalError):
        sql_ping(engine)()
    engine.dispose()
