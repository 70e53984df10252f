"""Database engine and schema migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout, so the daemon and a CLI
command can use the same file. PostgreSQL is used through psycopg 3. The schema is owned by
Alembic; :func:`upgrade` brings any database to the newest revision and is safe to run from
several processes at once (PostgreSQL: an advisory lock serialises them). A database already
at the newest revision (read from the migration files, without importing Alembic) costs one
query: every command opens the store, and most find nothing to migrate.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import create_engine

from tracker.errors import StoreError
from tracker.store.revision import MIGRATIONS as _MIGRATIONS
from tracker.store.revision import head_revision

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

_MIGRATION_LOCK = 7_245_001  # PostgreSQL advisory lock id held while migrating


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file."""
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["pool_size"] = 10
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; serialised across processes on PostgreSQL."""
    if revision == "head" and head_revision() is not None:
        try:
            if current_revision(engine) == head_revision():
                return
        except StoreError:
            pass  # unreachable: let the migration below say so in its own words
    from alembic import command

    try:
        cfg = alembic_config(engine)
        if is_postgres(engine):
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
                try:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, revision)
                    conn.commit()
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                    conn.commit()
        else:
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate {engine.url.render_as_string()}: "
                         f"{describe_error(exc)}") from exc


def describe_error(exc: SQLAlchemyError) -> str:
    """One line saying what the database (driver) said, without SQLAlchemy's boilerplate."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def current_revision(engine: Engine) -> str | None:
    """The schema revision, None before the first migration; StoreError when unreachable."""
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot connect to {engine.url.render_as_string()}: "
                         f"{describe_error(exc)}") from exc
    with conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except SQLAlchemyError:
            return None
    return None if row is None else str(row[0])


class Leadership:
    """At most one process of a cluster holds it (e.g. to run the Telegram bot's polling,
    which the Bot API allows to one client per token).

    PostgreSQL: a session advisory lock on a dedicated connection; when the holder dies its
    session ends and another process takes over on its next try. SQLite serves one process,
    which always leads.
    """

    def __init__(self, engine: Engine, key: int) -> None:
        self.engine = engine
        self.key = key
        self._conn: Any = None

    @property
    def held(self) -> bool:
        return self._conn is not None or not is_postgres(self.engine)

    def try_acquire(self) -> bool:
        if self.held:
            return True
        conn = self.engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            conn.commit()
        except SQLAlchemyError:
            conn.close()
            return False
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
            except SQLAlchemyError:
                pass
            finally:
                self._conn.close()
                self._conn = None
