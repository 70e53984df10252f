"""The week as an iCalendar file (RFC 5545), built with the ``icalendar`` library.

One VEVENT per event, all of them all-day events (``DTSTART;VALUE=DATE`` and ``DTEND`` the
next day, RFC 5545 §3.6.1), on the day the timeline files the event under:

- precision ``day``: the day the text gave;
- precision ``week``: the week's first day (the date the text gave), one day long;
- precision ``month``, ``quarter``, ``year`` and no date: the event's ``sort_date`` read in
  the export's zone (for a dated event the timeline sets it to the first day of the period).
  The calendar marks one day rather than a bar across the whole period, and the description
  says the period and its precision ("التاريخ: 2025-07 (الدقة: شهر)").

``UID`` is ``event-{id}@tracker``, stable across exports, so a calendar that imports next
week's file updates the event instead of doubling it. ``DTSTAMP`` is ``generated_at``.
``SUMMARY`` is "type label: headline", ``DESCRIPTION`` the entities, status, date and every
source, ``URL`` the first source with an http(s) URL, ``CATEGORIES`` the type id.
"""

from __future__ import annotations

from datetime import timedelta

import icalendar

from tracker.export._view import WORDS_AR, EventView, WeekView, reported_by

PRODID = "-//tracker//AI chip race weekly timeline//AR"


def uid(event_id: int) -> str:
    """The stable UID of a timeline event."""
    return f"event-{event_id}@tracker"


def _description(v: EventView) -> str:
    w = WORDS_AR
    lines = [
        f"{w['entities']}: " + ("، ".join(v.entity_labels) or w["unknown"]),
        f"{w['status']}: {v.status_ar}",
        f"{w['date']}: {v.date_text_ar}",
        f"{w['sources']}: {reported_by(v.source_count)}",
    ]
    lines += [f"- {s.outlet}: {s.url}" if s.url else f"- {s.outlet}" for s in v.sources]
    return "\n".join(lines)


def vevent(v: EventView, view: WeekView) -> icalendar.Event:
    """One event as a VEVENT."""
    ev = v.event
    out = icalendar.Event()
    out.add("uid", uid(ev.id))
    out.add("dtstamp", view.generated_at)
    out.add("dtstart", v.day)
    out.add("dtend", v.day + timedelta(days=1))
    out.add("summary", f"{v.type_label_ar}: {ev.headline}")
    out.add("description", _description(v))
    out.add("categories", [ev.type])
    out.add("transp", "TRANSPARENT")
    if v.first_url:
        out.add("url", v.first_url)
    return out


def render_ics(view: WeekView) -> bytes:
    """The calendar, as bytes (icalendar folds lines and writes CRLF, UTF-8)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{WORDS_AR['title']} — {view.week}")
    cal.add("x-wr-timezone", view.tz)
    for v in view.events:
        cal.add_component(vevent(v, view))
    result: bytes = cal.to_ical()
    return result
