"""The week as TimelineJS3 JSON (https://timeline.knightlab.com/docs/json-format.html).

TimelineJS renders ``text.headline`` and ``text.text`` as HTML, so every feed string is
HTML-escaped and wrapped in ``<div dir="rtl" lang="ar" style="text-align: right">`` (Latin
runs inside ``<bdi>``): TimelineJS's own slide CSS sets ``text-align: left``, which ``dir``
alone does not override, so without the inline alignment slides read right to left but
hang on the left edge. Dates carry as much as the text gave: a day, or only year and month, or only
the year, with a ``display_date`` in Arabic words for months, quarters and weeks; an event the text
did not date stands on the day the timeline files it under. ``group`` is the Arabic type label,
``unique_id`` is ``event-{id}``.

The JSON format has no direction field: right-to-left comes from the wrappers above and from
the embed, which must pass TimelineJS's Arabic locale,
``new TL.Timeline("timeline-embed", data, {language: "ar"})``. TimelineJS3's language files
mark Arabic ``right_to_left``, which puts the ``tl-rtl`` class (``direction: rtl``, right-
aligned slides) on the timeline (NUKnightLab/TimelineJS3 #309, #395, #554); its time
navigation still runs left to right (#828, open), which the wrappers cannot change.
"""

from __future__ import annotations

import html
from typing import Any

from tracker.export._html import bidi
from tracker.export._json import json_with_events
from tracker.export._view import (
    MONTHS_AR,
    WORDS_AR,
    EventView,
    WeekView,
    reported_by,
)

_QUARTERS_AR = ("الربع الأول", "الربع الثاني", "الربع الثالث", "الربع الرابع")


def _rtl(inner: str) -> str:
    return f'<div dir="rtl" lang="ar" style="text-align: right">{inner}</div>'


def start_date(v: EventView) -> dict[str, str]:
    """The TimelineJS date object: only the parts the event's precision knows."""
    value, precision = v.date_value, v.precision
    try:
        if value and precision == "month":
            year, month = value.split("-")
            return {
                "year": str(int(year)),
                "month": str(int(month)),
                "display_date": f"{MONTHS_AR[int(month) - 1]} {int(year)}",
            }
        if value and precision == "quarter":
            year, q = value.split("-Q")
            return {
                "year": str(int(year)),
                "month": str(3 * (int(q) - 1) + 1),
                "display_date": f"{_QUARTERS_AR[int(q) - 1]} {int(year)}",
            }
        if value and precision == "year":
            return {"year": str(int(value[:4]))}
    except (ValueError, IndexError):
        pass
    day = v.day
    out = {"year": str(day.year), "month": str(day.month), "day": str(day.day)}
    if precision == "week":
        month = MONTHS_AR[day.month - 1]
        out["display_date"] = f"الأسبوع الذي يبدأ في {day.day} {month} {day.year}"
    return out


def _text(v: EventView) -> str:
    w = WORDS_AR
    esc = html.escape
    entities = "، ".join(f"<bdi>{bidi(x)}</bdi>" for x in v.entity_labels) or w["unknown"]
    links = []
    for s, url in v.linked_sources:
        name = bidi(s.outlet)
        links.append(
            f'<a href="{esc(url)}" target="_blank" rel="noopener">{name}</a>' if url else name
        )
    parts = [
        f"<p><b>{w['entities']}:</b> {entities}</p>",
        f"<p><b>{w['status']}:</b> {esc(v.status_ar)}</p>",
        f"<p><b>{w['date']}:</b> {bidi(v.date_text_ar)}</p>",
        f"<p><b>{w['sources']}:</b> {reported_by(v.outlet_count)}"
        + (": " + "، ".join(links) if links else "")
        + "</p>",
    ]
    return _rtl("".join(parts))


def event_slide(v: EventView) -> dict[str, Any]:
    """One event as a TimelineJS slide."""
    return {
        "start_date": start_date(v),
        "text": {"headline": _rtl(str(bidi(v.event.headline))), "text": _text(v)},
        "group": v.type_label_ar,
        "unique_id": f"event-{v.event.id}",
        "autolink": False,
    }


def render_timelinejs(view: WeekView) -> bytes:
    """The TimelineJS3 JSON document, as UTF-8 bytes."""
    w = WORDS_AR
    summary = f"{w['period']}: {view.period_ar} · {w['events']}: {len(view.events)}"
    if not view.events:
        summary += " · " + w["no_events"]
    head = {
        "title": {
            "text": {
                "headline": _rtl(f"{w['title']} — {w['week']} {view.week}"),
                "text": _rtl(html.escape(summary)),
            }
        },
        "scale": "human",
    }
    return json_with_events(head, [event_slide(v) for v in view.events])
