"""Turning events into JSON lines and readable reports.

``classify_record`` is the boundary of ``tracker classify --jsonl``: it checks one input record,
classifies it and never raises for a bad record (the error goes into the output line instead).
``render_report`` returns plain text (a ``str``, free of rich markup brackets); evidence
phrases are highlighted with ⟪ ⟫ in the sentence they come from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracker.classify.engine import Engine
from tracker.model import Article, DetectedEvent


def event_to_json(ev: DetectedEvent) -> dict[str, Any]:
    """The JSON form of one event (DESIGN.md keys plus precision and roles)."""
    date = ev.event_date
    return {
        "type": ev.type,
        "confidence": ev.confidence,
        "entities": [e.id for e in ev.entities],
        "event_date": date.value if date is not None and date.precision != "year" else None,
        "event_date_precision": date.precision if date is not None else None,
        "event_year": date.value if date is not None and date.precision == "year" else None,
        "status": ev.status,
        "recap": ev.recap,
        "evidence": list(ev.evidence),
        "why": list(ev.why),
        "roles": {e.id: e.role for e in ev.entities},
    }


def parse_published(value: object) -> datetime | None:
    """An ISO 8601 string (``Z`` allowed; naive means UTC) as aware UTC, or None for null."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("published must be an ISO 8601 string or null")
    stamp = datetime.fromisoformat(value.strip())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def classify_record(engine: Engine, record: object) -> dict[str, Any]:
    """``{"id", "events"}`` for one input record; ``"error"`` (and no events) if it is bad."""
    rid = record.get("id") if isinstance(record, dict) else None
    try:
        if not isinstance(record, dict):
            raise ValueError("record must be a JSON object")
        text = record.get("text")
        title = record.get("title") or ""
        if not isinstance(text, str):
            raise ValueError("text is missing or not a string")
        if not isinstance(title, str):
            raise ValueError("title must be a string")
        published = parse_published(record.get("published"))
    except ValueError as exc:
        return {"id": rid, "events": [], "error": str(exc)}
    events = engine.classify(Article(title=title, text=text, published=published))
    return {"id": rid, "events": [event_to_json(ev) for ev in events]}


def _highlight(sentence: str, phrases: tuple[str, ...]) -> str:
    out = sentence
    for phrase in sorted(set(phrases), key=len, reverse=True):
        if phrase and phrase in out and f"⟪{phrase}" not in out:
            out = out.replace(phrase, f"⟪{phrase}⟫", 1)
    return out


def render_report(article: Article, events: tuple[DetectedEvent, ...]) -> str:
    """A readable multi-line report of one article's events, evidence marked ⟪like this⟫."""
    lines = [article.title or "(untitled)"]
    if article.published is not None:
        lines.append(f"published {article.published.isoformat()}")
    if not events:
        lines.append("no events")
        return "\n".join(lines)
    for n, ev in enumerate(events, 1):
        date = ev.event_date
        when = f"{date.value} ({date.precision})" if date is not None else "undated"
        flags = f"{ev.status}{', recap' if ev.recap else ''}"
        # no square brackets: the CLI prints through rich, which reads them as markup
        lines.append(f"{n}. {ev.type} · {flags} · confidence {ev.confidence:.2f} · {when}")
        if ev.entities:
            lines.append("   entities: " + ", ".join(f"{e.id} ({e.role})" for e in ev.entities))
        else:
            lines.append("   entities: none named that the gazetteer knows")
        lines.append("   " + _highlight(ev.sentence, ev.evidence))
        for reason in ev.why:
            lines.append(f"   why: {reason}")
    return "\n".join(lines)
