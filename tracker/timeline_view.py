"""Timeline entries as plain data (JSON) for the CLI and exports. Pure."""

from __future__ import annotations

from typing import Any

from tracker.alerts.render import Labels
from tracker.model import TimelineEntry


def entry_json(entry: TimelineEntry, labels: Labels) -> dict[str, Any]:
    """One timeline event with its sources, labels in Arabic and English."""
    ev = entry.event
    return {
        "id": ev.id,
        "type": ev.type,
        "type_label_ar": labels.labels(ev.type, "ar"),
        "type_label_en": labels.labels(ev.type, "en"),
        "headline": ev.headline,
        "entities": [{"id": e.id, "kind": e.kind, "role": e.role,
                      "label": labels.entity_label(e.id, "ar")} for e in ev.entities],
        "event_date": ev.event_date.value if ev.event_date else None,
        "precision": ev.event_date.precision if ev.event_date else None,
        "sort_date": ev.sort_date.isoformat(),
        "status": ev.status,
        "first_seen": ev.first_seen.isoformat(),
        "first_outlet": ev.first_outlet,
        "source_count": len(entry.sources),
        "outlet_count": len({s.outlet for s in entry.sources}),
        "follow_up_of": ev.follow_up_of,
        "evidence": list(ev.evidence),
        "sources": [{"outlet": s.outlet, "url": s.url, "title": s.title,
                     "published": s.published.isoformat() if s.published else None,
                     "fetched": s.fetched.isoformat()} for s in entry.sources],
    }
