"""The week as an iCalendar file (RFC 5545), through the ``icalendar`` library.

One VEVENT per event, all of them all-day events (``DTSTART;VALUE=DATE`` and ``DTEND`` the
next day, RFC 5545 §3.6.1), on the day the timeline files the event under:

- precision ``day``: the day the text gave;
- precision ``week``: the week's first day (the date the text gave), one day long;
- precision ``month``, ``quarter``, ``year`` and no date: the event's ``sort_date`` read in
  the export's zone (for a dated event the timeline sets it to the first day of the period).
  The calendar marks one day rather than a bar across the whole period, and the description
  says the period and its precision ("التاريخ: 2025-07 (الدقة: شهر)").

``UID`` is ``event-{id}-{installation}@tracker`` (the installation id is stored once per
database), stable across exports, so a calendar that imports next week's file updates the
event instead of doubling it, and two installations' events never collide in one calendar.
``DTSTAMP`` is ``generated_at``.
``SUMMARY`` is "type label: headline", ``DESCRIPTION`` the entities, status, date and every
source, ``URL`` the first source with an http(s) URL, ``CATEGORIES`` the type id.

Two ways to the same bytes. :func:`calendar` builds the ``icalendar.Calendar`` object (for
callers that want the object). :func:`render_ics` encodes every value with icalendar's
property types (``vText`` escaping, ``vDate``, ``vDatetime``, ``vCategory``, ``vUri``) but
writes the VEVENT content lines and folds them (RFC 5545 §3.1: at most 75 octets, never inside
a UTF-8 sequence nor right after a backslash, like icalendar) itself: icalendar's generic
writer folds character by character and spends most of a 10,000-event export there. A test
checks that both give identical bytes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import icalendar

from tracker.export._view import WORDS_AR, EventView, WeekView, reported_by

PRODID = "-//tracker//AI chip race weekly timeline//AR"
_FOLD_AT = 74  # octets of content per physical line; the folding space makes 75


def uid(event_id: int, installation: str = "") -> str:
    """The stable UID of a timeline event of one installation."""
    return f"event-{event_id}-{installation}@tracker" if installation else \
        f"event-{event_id}@tracker"


def _description(v: EventView) -> str:
    w = WORDS_AR
    lines = [
        f"{w['entities']}: " + ("، ".join(v.entity_labels) or w["unknown"]),
        f"{w['status']}: {v.status_ar}",
        f"{w['date']}: {v.date_text_ar}",
        f"{w['sources']}: {reported_by(v.outlet_count)}",
    ]
    lines += [f"- {s.outlet}: {s.url}" if s.url else f"- {s.outlet}" for s in v.sources]
    return "\n".join(lines)


def _summary(v: EventView) -> str:
    return f"{v.type_label_ar}: {v.event.headline}"


def _shell(view: WeekView) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{WORDS_AR['title']} — {view.week}")
    cal.add("x-wr-timezone", view.tz)
    return cal


def vevent(v: EventView, view: WeekView) -> icalendar.Event:
    """One event as an ``icalendar.Event``."""
    out = icalendar.Event()
    out.add("uid", uid(v.event.id, view.installation))
    out.add("dtstamp", view.generated_at)
    out.add("dtstart", v.day)
    out.add("dtend", v.day + timedelta(days=1))
    out.add("summary", _summary(v))
    out.add("description", _description(v))
    out.add("categories", [v.event.type])
    out.add("transp", "TRANSPARENT")
    if v.first_url:
        out.add("url", v.first_url)
    return out


def calendar(view: WeekView) -> icalendar.Calendar:
    """The week as an ``icalendar.Calendar`` object."""
    cal = _shell(view)
    for v in view.events:
        cal.add_component(vevent(v, view))
    return cal


def fold(line: str) -> bytes:
    """``line`` in UTF-8, folded with CRLF + space into pieces of at most 74 octets."""
    data = line.encode("utf-8")
    if len(data) <= _FOLD_AT:
        return data
    parts = []
    start = 0
    while len(data) - start > _FOLD_AT:
        end = start + _FOLD_AT
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back to the char start
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > start:  # keep an escape with what it escapes
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def _encoded(prop: Any) -> str:
    """A property value as icalendar encodes it (``to_ical``), as text."""
    text: str = prop.to_ical().decode("utf-8")
    return text


def _text(value: str) -> str:
    return _encoded(icalendar.vText(value))


def _vevent_lines(v: EventView, dtstamp: str, installation: str) -> list[bytes]:
    # icalendar's canonical order for VEVENT, then the other properties alphabetically.
    start = _encoded(icalendar.vDate(v.day))
    end = _encoded(icalendar.vDate(v.day + timedelta(days=1)))
    lines = [
        b"BEGIN:VEVENT",
        fold("SUMMARY:" + _text(_summary(v))),
        b"DTSTART;VALUE=DATE:" + start.encode(),
        b"DTEND;VALUE=DATE:" + end.encode(),
        b"DTSTAMP:" + dtstamp.encode(),
        fold("UID:" + _text(uid(v.event.id, installation))),
        fold("CATEGORIES:" + _encoded(icalendar.vCategory([v.event.type]))),
        fold("DESCRIPTION:" + _text(_description(v))),
        b"TRANSP:TRANSPARENT",
    ]
    if v.first_url:
        lines.append(fold("URL:" + _encoded(icalendar.vUri(v.first_url))))
    lines.append(b"END:VEVENT")
    return lines


def render_ics(view: WeekView) -> bytes:
    """The calendar, as bytes: UTF-8, CRLF line ends, folded lines."""
    shell: bytes = _shell(view).to_ical()
    head, end = shell.rsplit(b"END:VCALENDAR", 1)
    dtstamp = _encoded(icalendar.vDatetime(view.generated_at))
    body = [line for v in view.events
            for line in _vevent_lines(v, dtstamp, view.installation)]
    return head + b"".join(line + b"\r\n" for line in body) + b"END:VCALENDAR" + end
