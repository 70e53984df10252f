"""The week as Markdown to paste into a report (CommonMark and GitHub-flavoured).

Every feed string goes through :func:`escape_md`: line breaks become spaces (a headline with
a newline would otherwise end its list item), and each character that CommonMark or GFM reads
as inline markup gets a backslash (``\\ ` * _ { } [ ] ( ) < > # | ~ & ! $``; ``$`` because
GitHub renders ``$…$`` as math). Link targets use the ``<…>`` form with spaces, ``<``, ``>``
and backslashes percent-encoded, and only http(s) URLs become links.

Every line of text starts with a right-to-left mark (U+200F) after its Markdown marker, so a
left-to-right viewer lays out a line that begins with Latin ("H20 …") or a digit right to
left, like the Arabic around it.
"""

from __future__ import annotations

import re

from tracker.export._view import WORDS_AR, EventView, WeekView, reported_by

_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#|~&!$"})
_BREAK_CHARS = "\r\n\u2028\u2029"
_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_URL_UNSAFE = str.maketrans({" ": "%20", "<": "%3C", ">": "%3E", "\\": "%5C"})
RLM = "\u200f"
_MARKER = re.compile(r"^(#{1,6} |- |)")


def _rtl(line: str) -> str:
    """``line`` with a right-to-left mark after its block marker (blank lines stay blank)."""
    if not line:
        return line
    marker = _MARKER.match(line)
    head = marker.group(1) if marker else ""
    return head + RLM + line[len(head):]


def escape_md(text: str) -> str:
    """``text`` as literal Markdown inline text, on one line."""
    if any(c in text for c in _BREAK_CHARS):
        text = _BREAKS.sub(" ", text)
    return text.translate(_SPECIAL)


def _source(name: str, url: str | None) -> str:
    label = escape_md(name)
    return f"[{label}](<{url.translate(_URL_UNSAFE)}>)" if url else label


def _event(v: EventView) -> list[str]:
    w = WORDS_AR
    ev = v.event
    entities = "، ".join(escape_md(x) for x in v.entity_labels) or w["unknown"]
    sources = "، ".join(_source(s.outlet, url) for s, url in v.linked_sources)
    return [
        f"### {escape_md(v.type_label_ar)}: {escape_md(ev.headline)}",
        "",
        f"- **{w['entities']}:** {entities}",
        f"- **{w['status']}:** {escape_md(v.status_ar)}",
        f"- **{w['date']}:** {escape_md(v.date_text_ar)}",
        f"- **{w['sources']}:** {reported_by(v.outlet_count)}"
        + (f": {sources}" if sources else ""),
        "",
    ]


def render_markdown(view: WeekView) -> str:
    """The Markdown document: a header, then one section per day that has events."""
    w = WORDS_AR
    out = [
        f"# {w['title']} — {w['week']} {view.week}",
        "",
        f"**{w['period']}:** {view.period_ar} · **{w['timezone']}:** {escape_md(view.tz)} · "
        f"**{w['events']}:** {len(view.events)} · "
        f"**{w['generated']}:** {view.generated_local} ({escape_md(view.tz)})",
        "",
    ]
    if not view.event_days:
        out += [w["no_events"], ""]
    for day in view.event_days:
        out += [f"## {day.label_ar}", ""]
        for v in day.events:
            out += _event(v)
    return "\n".join(_rtl(line) for line in out).rstrip("\n") + "\n"
