"""The week as one self-contained HTML page: right to left, readable on a phone, no network.

The page (``templates/page.html.j2``, jinja2 with autoescape on) holds its CSS inline, no
script, no font or image to fetch, and a Content-Security-Policy that forbids fetching any.
Its chart is inline SVG computed here: one bar group (``<g class="day">``) per day of the
week, stacked by event type in taxonomy order, days running right to left from Monday.
Feed strings go through the ``bidi`` filter, which escapes them and wraps Latin runs
("Nvidia H20") in ``<bdi dir="ltr">`` so they keep their order inside Arabic lines.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import jinja2
from markupsafe import Markup, escape

from tracker.export._view import (
    DAY_NAMES_AR,
    PRECISION_AR,
    STATUS_AR,
    WORDS_AR,
    WeekView,
    reported_by,
    utc_iso,
)

_LATIN_CHAR = re.compile(r"[A-Za-z0-9]")
_LATIN_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .\-+/&']*[A-Za-z0-9]|[A-Za-z0-9]")
PALETTE = {
    "export_permit": "#009E73",
    "export_restriction": "#D55E00",
    "purchase_guidance": "#CC79A7",
    "security_review": "#E69F00",
    "mass_production": "#0072B2",
    "chip_launch": "#56B4E9",
    "financial_results": "#B59F00",
    "supply_constraint": "#6E6E6E",
}
_EXTRA = ("#332288", "#117733", "#882255", "#44AA99", "#999933", "#AA4499")

# Chart geometry, in SVG user units (the SVG scales to the page width).
_W, _H = 640, 260
_TOP, _BOTTOM, _SIDE = 24, 44, 36


def bidi(text: str) -> Markup:
    """``text`` escaped for HTML, its Latin runs isolated left to right with ``<bdi>``."""
    if _LATIN_CHAR.search(text) is None:
        return escape(text)
    out: list[str] = []
    pos = 0
    for m in _LATIN_RUN.finditer(text):
        out.append(str(escape(text[pos : m.start()])))
        out.append(f'<bdi dir="ltr">{escape(m.group(0))}</bdi>')
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


# Labels and outlet names repeat on every event: isolate each distinct one once per process.
bidi_repeated = functools.lru_cache(maxsize=4096)(bidi)


@dataclass(frozen=True)
class Segment:
    """One type's share of one day's bar."""

    type_label: str
    color: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Bar:
    """One day's stacked bar with its label."""

    day: str  # ISO date
    label: str  # Arabic weekday and day of month
    total: int
    x: float  # centre
    top: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    """The events-per-day chart, ready for the template."""

    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[int, float], ...]  # (value, y)
    legend: tuple[tuple[str, str], ...]  # (Arabic label, colour)


def colors(view: WeekView) -> dict[str, str]:
    """The colour of each type in the week: fixed for the taxonomy, then a spare palette."""
    out: dict[str, str] = {}
    spare = 0
    for type_id, _ in view.types:
        if type_id in PALETTE:
            out[type_id] = PALETTE[type_id]
        else:
            out[type_id] = _EXTRA[spare % len(_EXTRA)]
            spare += 1
    return out


def _step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if top / step <= 5:
            return step
    return max(1, top // 5)


def chart(view: WeekView, color: dict[str, str]) -> Chart:
    """Bars for every day of the view, the first day on the right."""
    counts = [
        {t: sum(1 for v in d.events if v.event.type == t) for t, _ in view.types} for d in view.days
    ]
    peak = max((sum(c.values()) for c in counts), default=0)
    step = _step(max(peak, 1))
    top = max(step, -(-peak // step) * step)
    plot_h = _H - _TOP - _BOTTOM
    baseline = float(_H - _BOTTOM)
    slot = (_W - 2 * _SIDE) / max(len(view.days), 1)
    width = slot * 0.6
    bars = []
    for i, (day, count) in enumerate(zip(view.days, counts, strict=True)):
        centre = _W - _SIDE - slot * (i + 0.5)
        y = baseline
        segments = []
        for type_id, label in view.types:
            n = count[type_id]
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            segments.append(
                Segment(
                    label,
                    color[type_id],
                    n,
                    round(centre - width / 2, 2),
                    round(y, 2),
                    round(width, 2),
                    round(h, 2),
                )
            )
        label = f"{DAY_NAMES_AR[day.day.weekday()]} {day.day.day}"
        bars.append(
            Bar(
                day.day.isoformat(),
                label,
                sum(count.values()),
                round(centre, 2),
                round(y, 2),
                tuple(segments),
            )
        )
    ticks = tuple((v, round(baseline - plot_h * v / top, 2)) for v in range(0, top + 1, step))
    legend = tuple((label, color[t]) for t, label in view.types)
    return Chart(_W, _H, baseline, tuple(bars), ticks, legend)


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment of the export templates (autoescape on, undefined is an error)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.export", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bidi"] = bidi
    env.filters["bidi_repeated"] = bidi_repeated
    env.filters["reported_by"] = reported_by
    env.filters["utc_iso"] = utc_iso
    return env


def render_html(view: WeekView) -> bytes:
    """The HTML page, as UTF-8 bytes."""
    color = colors(view)
    page = (
        environment()
        .get_template("page.html.j2")
        .render(
            view=view,
            chart=chart(view, color),
            color=color,
            words=WORDS_AR,
            status_ar=STATUS_AR,
            precision_ar=PRECISION_AR,
        )
    )
    return page.encode("utf-8")
