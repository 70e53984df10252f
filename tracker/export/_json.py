"""The week as JSON: UTF-8, Arabic as is (``ensure_ascii=False``), times in UTC ``…Z``.

Shape::

    {"week", "timezone", "start", "end", "generated_at",
     "events": [{"id", "type", "type_label_ar", "type_label_en", "headline",
                 "entities": [{"id", "kind", "role", "label"}], "day", "event_date",
                 "precision", "sort_date", "status", "status_label", "first_seen",
                 "first_outlet", "source_count", "evidence",
                 "sources": [{"outlet", "url", "published", "fetched", "title"}]}]}

The file holds one event per line (the C encoder, no indentation inside an event): a diff
of two weeks shows whole events, and 10,000 events serialise in a fraction of a second.
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


def json_with_events(head: dict[str, Any], events: list[dict[str, Any]]) -> bytes:
    """``head`` with an ``"events"`` list appended, one event per line, as UTF-8 bytes."""
    top = json.dumps(head, ensure_ascii=False)[:-1]  # without the closing brace
    sep = ", " if head else ""
    if not events:
        return f'{top}{sep}"events": []}}\n'.encode()
    lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in events)
    return f'{top}{sep}"events": [\n{lines}\n]}}\n'.encode()


def render_json(view: WeekView) -> bytes:
    """The JSON document, as UTF-8 bytes."""
    head = {
        "week": view.week,
        "timezone": view.tz,
        "start": utc_iso(view.start),
        "end": utc_iso(view.end),
        "generated_at": utc_iso(view.generated_at),
    }
    return json_with_events(head, [event_json(v) for v in view.events])
