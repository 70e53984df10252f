"""The newest schema revision, read from the shipped migration files.

Kept apart from :mod:`tracker.store.db` so that a reading command can check "already
migrated" without importing SQLAlchemy or Alembic.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")

_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]*)['\"]|None)",
                       re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest revision of the shipped migrations (the one no other revises), read from
    the files; None if that is not exactly one (then Alembic decides)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revised if down else revisions).add(value)
    heads = revisions - revised
    return next(iter(heads)) if len(heads) == 1 else None
