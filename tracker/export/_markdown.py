"""The week as Markdown to paste into a report (CommonMark and GitHub-flavoured).

Every feed string goes through :func:`escape_md`: line breaks become spaces (a headline with
a newline would otherwise end its list item), and each character that CommonMark or GFM reads
as inline markup gets a backslash (``\\ ` * _ { } [ ] ( ) < > # | ~ & ! $``; ``$`` because
GitHub renders ``$…$`` as math). Link targets use the ``<…>`` form with spaces, ``<``, ``>``
and backslashes percent-encoded, and only http(s) URLs become links.
"""

from __future__ import annotations

import re

from tracker.export._view import WORDS_AR, EventView, WeekView, reported_by

_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#|~&!$"})
_BREAK_CHARS = "\r\n\u2028\u2029"
_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
_URL_UNSAFE = str.maketrans({" ": "%20", "<": "%3C", ">": "%3E", "\\": "%5C"})


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
        f"- **{w['sources']}:** {reported_by(v.source_count)}"
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
        f"**{w['generated']}:** {view.generated_at:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    if not view.event_days:
        out += [w["no_events"], ""]
    for day in view.event_days:
        out += [f"## {day.label_ar}", ""]
        for v in day.events:
            out += _event(v)
    return "\n".join(out).rstrip("\n") + "\n"
