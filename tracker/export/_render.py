"""``render_export``: one entry point that builds the week's view and picks the renderer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from tracker.alerts.render import Labels
from tracker.export._csv import render_csv
from tracker.export._html import render_html
from tracker.export._ics import render_ics
from tracker.export._json import render_json
from tracker.export._markdown import render_markdown
from tracker.export._timelinejs import render_timelinejs
from tracker.export._view import WeekView, build_view
from tracker.model import TimelineEntry


def _md(view: WeekView) -> bytes:
    return render_markdown(view).encode("utf-8")


_RENDERERS: dict[str, Callable[[WeekView], bytes]] = {
    "md": _md,
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
    "ics": render_ics,
    "timelinejs": render_timelinejs,
}
FORMATS = tuple(_RENDERERS)
# What the CLI needs to name and serve the file.
EXTENSIONS = {
    "md": "md",
    "html": "html",
    "csv": "csv",
    "json": "json",
    "ics": "ics",
    "timelinejs": "timeline.json",
}
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ics": "text/calendar; charset=utf-8",
    "timelinejs": "application/json",
}


def render_export(
    fmt: str,
    entries: Sequence[TimelineEntry],
    *,
    week: str,
    tz: str,
    labels: Labels,
    generated_at: datetime,
    installation: str = "",
) -> bytes:
    """The week's export in format ``fmt``; ValueError for an unknown format, a malformed
    week, an unknown zone or a naive ``generated_at``."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}"
        ) from None
    view = build_view(entries, week=week, tz=tz, labels=labels, generated_at=generated_at,
                      installation=installation)
    return renderer(view)
