"""Storage edge: SQLModel tables, migrations and every SQL statement tracker runs.

Only this package knows table classes; the rest of tracker sees the value types of
:mod:`tracker.model` and the small views defined in :mod:`tracker.store.values`.
"""

from __future__ import annotations
