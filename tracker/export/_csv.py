"""The week as CSV that Excel opens with its Arabic intact: UTF-8 with a BOM, CRLF rows.

One row per event, in the export's order. Columns: ``id, day, date, precision, type,
type_label, headline, entities, status, source_count, first_outlet, first_seen,
source_urls`` — ``day`` is the day the timeline files the event under, ``date`` and
``precision`` what the text said (empty when it said nothing), ``entities`` the Arabic labels
joined with `` | ``, ``source_urls`` the sources' URLs joined with a space (a URL holds none).

Formula injection (OWASP "CSV Injection"): a text cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text
and never evaluates it. To read the original back, drop one leading apostrophe when the
character after it is one of those. Numbers (id, source_count) are written as numbers.
"""

from __future__ import annotations

import csv
import io

from tracker.export._view import WeekView, utc_iso

HEADER = (
    "id",
    "day",
    "date",
    "precision",
    "type",
    "type_label",
    "headline",
    "entities",
    "status",
    "source_count",
    "first_outlet",
    "first_seen",
    "source_urls",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str) -> str:
    """``cell`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def undefuse(cell: str) -> str:
    """The inverse of :func:`defuse`, for readers of the file."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
        return cell[1:]
    return cell


def render_csv(view: WeekView) -> bytes:
    """The CSV file, as bytes (UTF-8 with BOM)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for v in view.events:
        ev = v.event
        text = [
            v.day.isoformat(),
            v.date_value or "",
            v.precision or "",
            ev.type,
            v.type_label_ar,
            ev.headline,
            " | ".join(v.entity_labels),
            ev.status,
        ]
        tail = [
            ev.first_outlet,
            utc_iso(ev.first_seen) or "",
            " ".join(s.url.strip() for s in v.sources if s.url),
        ]
        writer.writerow([ev.id, *map(defuse, text), v.source_count, *map(defuse, tail)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
