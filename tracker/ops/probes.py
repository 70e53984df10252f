"""The database probe behind ``/healthz``: one ``SELECT 1`` on a pooled connection.

Synchronous on purpose: the health server runs it in a worker thread with a timeout, so a
hung database never blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, text


def sql_ping(engine: Engine) -> Callable[[], bool]:
    """A check that is true when ``engine``'s database answers ``SELECT 1`` (raises if not)."""

    def ping() -> bool:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1

    return ping
