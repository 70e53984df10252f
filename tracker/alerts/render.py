"""How an alert reads. Pure: data in, text out.

``alert_html`` writes Telegram HTML (only ``<b>``, ``<i>``, ``<a>``, ``<code>`` tags, every
feed string escaped with :func:`html.escape`); ``alert_text`` writes the same content as plain
text for the console. Arabic labels are the default; English with ``lang="en"``. Latin names
inside Arabic lines are wrapped in a left-to-right isolate (U+2066 … U+2069) so "Nvidia H20"
keeps its order inside right-to-left text. An event the text did not date shows the day it
was first reported in ``tz`` (``scheduler.timezone``), the zone exports and the desk use.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from tracker.model import SourceView, TimelineEvent
from tracker.text.plural import reported_by

_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .\-+/]*[A-Za-z0-9]|[A-Za-z0-9]")

_STATUS = {
    "ar": {"reported": "مُبلَّغ عنه", "confirmed": "مؤكَّد", "denied": "منفي",
           "planned": "مخطَّط", "rumoured": "غير مؤكَّد"},
    "en": {"reported": "reported", "confirmed": "confirmed", "denied": "denied",
           "planned": "planned", "rumoured": "rumoured"},
}
_WORDS = {
    "ar": {"date": "التاريخ", "status": "الحالة", "entities": "الجهات", "sources": "المصادر",
           "evidence": "الدليل", "unknown": "غير محدد"},
    "en": {"date": "Date", "status": "Status", "entities": "Entities", "sources": "Sources",
           "evidence": "Evidence",
           "unknown": "unknown"},
}


class Labels(Protocol):
    """Human labels of event types and entities (the classifier engine provides them)."""

    def labels(self, type_id: str, lang: str) -> str: ...

    def entity_label(self, entity_id: str, lang: str) -> str: ...


class SafeLabels:
    """Labels that never raise: an unknown event type or entity shows its id."""

    def __init__(self, inner: Labels) -> None:
        self.inner = inner

    def labels(self, type_id: str, lang: str) -> str:
        try:
            return self.inner.labels(type_id, lang)
        except KeyError:
            return type_id

    def entity_label(self, entity_id: str, lang: str) -> str:
        try:
            return self.inner.entity_label(entity_id, lang)
        except KeyError:
            return entity_id


def isolate_latin(text: str) -> str:
    """Wrap runs of Latin letters and digits in a left-to-right isolate."""
    return _LATIN_RUN.sub(lambda m: "\u2066" + m.group(0) + "\u2069", text)


def _date(event: TimelineEvent, lang: str, tz: str | None = None) -> str:
    """The event date as the text gave it, else the day it was first reported (in ``tz``,
    the configured zone, when given)."""
    if event.event_date is None:
        when = event.sort_date.astimezone(ZoneInfo(tz)) if tz else event.sort_date
        return when.date().isoformat()
    return event.event_date.value


def _entity_names(event: TimelineEvent, labels: Labels, lang: str, sep: str) -> str:
    names = dict.fromkeys(labels.entity_label(e.id, lang) for e in event.entities)
    return sep.join(names)


def outlets(event: TimelineEvent, sources: Sequence[SourceView]) -> int:
    """Distinct outlets among the sources (an outlet counts once, however many articles
    it ran); the event's own count when no source is at hand."""
    return len({s.outlet for s in sources}) or event.outlet_count


_reported_by = reported_by


def alert_html(
    event: TimelineEvent, sources: Sequence[SourceView], labels: Labels, lang: str = "ar",
    max_sources: int = 10, tz: str | None = None,
) -> str:
    """The Telegram HTML of an alert (evidence goes behind a button, not in the text);
    dates in ``tz`` (the configured zone) when given."""
    w = _WORDS[lang]
    esc = html.escape
    # Isolate Latin runs before escaping: isolating escaped text would split "&amp;".
    iso = isolate_latin if lang == "ar" else str
    entities = ("، " if lang == "ar" else ", ").join(
        esc(iso(labels.entity_label(e.id, lang))) for e in event.entities)
    headline = esc(isolate_latin(event.headline) if lang == "ar" else event.headline)
    first = next((s.url for s in sources if s.url), None)
    if first and len(headline) <= 1000:  # the headline opens its first source
        headline = f'<a href="{esc(first, quote=True)}">{headline}</a>'
    lines = [
        f"<b>{esc(labels.labels(event.type, lang))}</b>",
        headline,
        "",
        f"<b>{w['entities']}:</b> {entities}",
        f"<b>{w['date']}:</b> {esc(_date(event, lang, tz))}",
        f"<b>{w['status']}:</b> {esc(_STATUS[lang].get(event.status, event.status))}",
        f"<b>{w['sources']}</b> ({esc(_reported_by(outlets(event, sources), lang))}):",
    ]
    for s in sources[:max_sources]:
        name = esc(s.outlet)
        lines.append(f'• <a href="{esc(s.url, quote=True)}">{name}</a>' if s.url else f"• {name}")
    if len(sources) > max_sources:
        lines.append(f"• … +{len(sources) - max_sources}")
    return "\n".join(lines)


def alert_text(
    event: TimelineEvent, sources: Sequence[SourceView], labels: Labels, lang: str = "ar",
    tz: str = "UTC",
) -> str:
    """The same alert as plain text, for the console notifier."""
    w = _WORDS[lang]
    entities = _entity_names(event, labels, lang, "، " if lang == "ar" else ", ")
    lines = [
        f"[{labels.labels(event.type, lang)}] {event.headline}",
        f"  {w['entities']}: {entities}",
        f"  {w['date']}: {_date(event, lang, tz)}   {w['status']}: "
        f"{_STATUS[lang].get(event.status, event.status)}",
        f"  {w['evidence']}: {' | '.join(event.evidence)}",
        f"  {w['sources']} ({_reported_by(outlets(event, sources), lang)}):",
    ]
    lines += [f"    - {s.outlet}: {s.url or ''}" for s in sources]
    return "\n".join(lines)
