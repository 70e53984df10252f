"""The week as JSON: UTF-8, Arabic as is (``ensure_ascii=False``), times in UTC ``…Z``.

Shape::

    {"week", "timezone", "start", "end", "generated_at",
     "events": [{"id", "type", "type_label_ar", "type_label_en", "headline",
                 "entities": [{"id", "kind", "role", "label"}], "day", "event_date",
                 "precision", "sort_date", "status", "status_label", "first_seen",
                 "first_outlet", "source_count", "evidence",
                 "sources": [{"outlet", "url", "published", "fetched", "title"}]}]}

``event_date`` and ``precision`` are null when the text gave no date; ``day`` is the day the
timeline files the event under. Feed strings are not escaped: JSON needs no escaping beyond
its own, and consumers that put them in HTML must escape them there.
"""

from __future__ import annotations

import json
from typing import Any

from tracker.export._view import EventView, WeekView, utc_iso


def event_json(v: EventView) -> dict[str, Any]:
    """One event as a JSON-ready dict."""
    ev = v.event
    return {
        "id": ev.id,
        "type": ev.type,
        "type_label_ar": v.type_label_ar,
        "type_label_en": v.type_label_en,
        "headline": ev.headline,
        "entities": [
            {"id": e.id, "kind": e.kind, "role": e.role, "label": label}
            for e, label in zip(ev.entities, v.entity_labels, strict=True)
        ],
        "day": v.day.isoformat(),
        "event_date": v.date_value,
        "precision": v.precision,
        "sort_date": utc_iso(ev.sort_date),
        "status": ev.status,
        "status_label": v.status_ar,
        "first_seen": utc_iso(ev.first_seen),
        "first_outlet": ev.first_outlet,
        "source_count": v.source_count,
        "evidence": list(ev.evidence),
        "sources": [
            {
                "outlet": s.outlet,
                "url": s.url,
                "published": utc_iso(s.published),
                "fetched": utc_iso(s.fetched),
                "title": s.title,
            }
            for s in v.sources
        ],
    }


def render_json(view: WeekView) -> bytes:
    """The JSON document, as UTF-8 bytes, indented for people and diffs."""
    doc = {
        "week": view.week,
        "timezone": view.tz,
        "start": utc_iso(view.start),
        "end": utc_iso(view.end),
        "generated_at": utc_iso(view.generated_at),
        "events": [event_json(v) for v in view.events],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
