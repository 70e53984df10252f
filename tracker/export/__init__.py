"""Weekly timeline exports: pure renderers from timeline entries to file bytes.

::

    render_export(fmt, entries, *, week, tz, labels, generated_at) -> bytes
        fmt: md | html | csv | json | ics | timelinejs
    week_bounds(week, tz) -> (start, end)      aware UTC, the week is [start, end)
    last_complete_week(now, tz) -> "YYYY-Www"  the latest week that has ended in tz

Nothing here reads the clock, the database or the network: the CLI queries the week's
entries (``week_bounds`` gives the interval), picks ``generated_at`` and writes the bytes.
Every renderer reads the same view (``_view.build_view``): Arabic labels looked up once,
each event filed under one day, days in order. Errors are ``ValueError`` with a message that
names the bad input (format, week, zone, naive datetime).

Modules: ``_week`` (ISO weeks in a zone), ``_view`` (the shared view and Arabic words),
``_markdown``, ``_html`` (+ ``templates/page.html.j2``), ``_csv``, ``_json``, ``_ics``,
``_timelinejs``, ``_render`` (the dispatch).
"""

from __future__ import annotations

from tracker.export._render import EXTENSIONS, FORMATS, MEDIA_TYPES, render_export
from tracker.export._week import last_complete_week, week_bounds

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "MEDIA_TYPES",
    "last_complete_week",
    "render_export",
    "week_bounds",
]
