"""Export benchmark: every weekly format for a week of 10,000 events, against a naive baseline.

The week comes from ``tests/export/export_fixtures.make_entries`` (hostile Arabic headlines,
1–4 sources per event, mixed date precisions). Each format is rendered ``--runs`` times with
``tracker.export.render_export`` and the median wall time is reported; the target is under
2 s per format. ``view`` times the shared step every format starts with (labels looked up,
days filed, events sorted).

Baselines, measured in the same run on the same entries, each the obvious way to write that
export with no shared precomputation (labels asked per event and per entity, escaping done
inline, output built by string concatenation):

- md          ``+=`` concatenation, ``re.sub`` escaping per field
- html        ``html.escape`` + f-strings concatenated with ``+=`` (no template, no chart)
- csv         ``csv.writer`` row by row, labels looked up per row
- json        ``json.dumps(event, indent=2, ensure_ascii=False)`` per event, joined with ``+=``
- ics         ``icalendar``: one ``Event`` per entry, labels looked up per event
- timelinejs  ``json.dumps(slide, indent=2)`` per slide, ``+=`` joined

The labels are the test double (dictionary lookups); the classifier engine's labels are as
cheap, so the baselines lose little by asking repeatedly — they are honest, not strawmen.

Run: ``.venv/bin/python bench/bench_export.py [--events 10000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import csv
import gc
import html
import io
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
sys.path.insert(0, str(ROOT / "tests" / "export"))

import icalendar  # noqa: E402
from export_fixtures import GENERATED_AT, TZ, WEEK, FakeLabels, make_entries  # noqa: E402

from tracker.export import FORMATS, render_export  # noqa: E402
from tracker.export._view import build_view  # noqa: E402
from tracker.model import TimelineEntry  # noqa: E402

TARGET_S = 2.0

# --- baselines --------------------------------------------------------------------------------


def _day(e: TimelineEntry) -> str:
    ed = e.event.event_date
    if ed is not None and ed.precision in ("day", "week"):
        return ed.value[:10]
    return e.event.sort_date.astimezone(UTC).date().isoformat()


def naive_md(entries: Sequence[TimelineEntry], labels: FakeLabels) -> bytes:
    out = f"# الخط الزمني — {WEEK}\n\n"
    for e in sorted(entries, key=lambda e: (_day(e), e.event.sort_date, e.event.id)):
        ev = e.event
        esc = lambda s: re.sub(r"([\\`*_{}\[\]()<>#|~&!$])", r"\\\1", s.replace("\n", " "))  # noqa: E731
        out += f"### {esc(labels.labels(ev.type, 'ar'))}: {esc(ev.headline)}\n\n"
        out += (
            "- الجهات: "
            + "، ".join(esc(labels.entity_label(x.id, "ar")) for x in ev.entities)
            + "\n"
        )
        out += f"- الحالة: {ev.status}\n- التاريخ: {_day(e)}\n"
        for s in e.sources:
            out += f"- [{esc(s.outlet)}](<{s.url}>)\n"
        out += "\n"
    return out.encode()


def naive_html(entries: Sequence[TimelineEntry], labels: FakeLabels) -> bytes:
    out = '<!DOCTYPE html><html lang="ar" dir="rtl"><body>'
    for e in sorted(entries, key=lambda e: (_day(e), e.event.sort_date, e.event.id)):
        ev = e.event
        out += (
            f"<article><p>{html.escape(labels.labels(ev.type, 'ar'))}</p>"
            f"<h3>{html.escape(ev.headline)}</h3><p>"
        )
        out += "، ".join(html.escape(labels.entity_label(x.id, "ar")) for x in ev.entities)
        out += "</p><ul>"
        for s in e.sources:
            out += (
                f'<li><a href="{html.escape(s.url or "")}" rel="noopener">'
                f"{html.escape(s.outlet)}</a></li>"
            )
        out += "</ul></article>"
    return (out + "</body></html>").encode()


def naive_csv(entries: Sequence[TimelineEntry], labels: FakeLabels) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    for e in entries:
        ev = e.event
        w.writerow(
            [
                ev.id,
                _day(e),
                ev.type,
                labels.labels(ev.type, "ar"),
                ev.headline,
                " | ".join(labels.entity_label(x.id, "ar") for x in ev.entities),
                ev.status,
                len(e.sources),
                ev.first_outlet,
                " ".join(s.url for s in e.sources if s.url),
            ]
        )
    return ("\ufeff" + buf.getvalue()).encode()


def _event_dict(e: TimelineEntry, labels: FakeLabels) -> dict[str, object]:
    ev = e.event
    return {
        "id": ev.id,
        "type": ev.type,
        "type_label_ar": labels.labels(ev.type, "ar"),
        "type_label_en": labels.labels(ev.type, "en"),
        "headline": ev.headline,
        "entities": [
            {"id": x.id, "kind": x.kind, "role": x.role, "label": labels.entity_label(x.id, "ar")}
            for x in ev.entities
        ],
        "event_date": ev.event_date.value if ev.event_date else None,
        "status": ev.status,
        "first_seen": ev.first_seen.isoformat(),
        "sources": [{"outlet": s.outlet, "url": s.url, "title": s.title} for s in e.sources],
    }


def naive_json(entries: Sequence[TimelineEntry], labels: FakeLabels) -> bytes:
    out = '{"week": "' + WEEK + '", "events": ['
    for i, e in enumerate(entries):
        out += ("," if i else "") + json.dumps(_event_dict(e, labels), indent=2, ensure_ascii=False)
    return (out + "]}").encode()


def naive_ics(entries: Sequence[TimelineEntry], labels: FakeLabels) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//naive//")
    cal.add("version", "2.0")
    for e in entries:
        ev = e.event
        vev = icalendar.Event()
        day = datetime.fromisoformat(_day(e)).date()
        vev.add("uid", f"event-{ev.id}@tracker")
        vev.add("dtstamp", GENERATED_AT)
        vev.add("dtstart", day)
        vev.add("dtend", day + timedelta(days=1))
        vev.add("summary", f"{labels.labels(ev.type, 'ar')}: {ev.headline}")
        vev.add(
            "description",
            "\n".join(
                [", ".join(labels.entity_label(x.id, "ar") for x in ev.entities)]
                + [f"{s.outlet}: {s.url}" for s in e.sources]
            ),
        )
        vev.add("categories", [ev.type])
        cal.add_component(vev)
    result: bytes = cal.to_ical()
    return result


def naive_timelinejs(entries: Sequence[TimelineEntry], labels: FakeLabels) -> bytes:
    out = '{"events": ['
    for i, e in enumerate(entries):
        ev = e.event
        slide = {
            "start_date": dict(zip(("year", "month", "day"), _day(e).split("-"), strict=True)),
            "text": {
                "headline": html.escape(ev.headline),
                "text": html.escape(labels.labels(ev.type, "ar")),
            },
            "group": labels.labels(ev.type, "ar"),
            "unique_id": f"event-{ev.id}",
        }
        out += ("," if i else "") + json.dumps(slide, indent=2, ensure_ascii=False)
    return (out + "]}").encode()


BASELINES: dict[str, tuple[str, Callable[[Sequence[TimelineEntry], FakeLabels], bytes]]] = {
    "md": ("+= concat, re.sub per field", naive_md),
    "html": ("html.escape + f-string +=", naive_html),
    "csv": ("csv.writer, labels per row", naive_csv),
    "json": ("json.dumps(indent=2) per event", naive_json),
    "ics": ("icalendar, labels per event", naive_ics),
    "timelinejs": ("json.dumps(indent=2) per slide", naive_timelinejs),
}

# --- timing -----------------------------------------------------------------------------------


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        gc.collect()  # start every run from the same heap, not the previous run's garbage
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    labels = FakeLabels()
    t0 = time.perf_counter()
    entries = make_entries(args.events)
    print(
        f"generated {len(entries)} entries in {time.perf_counter() - t0:.2f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
        f"median of {args.runs} runs per row; target < {TARGET_S:.0f} s per format"
    )

    view_s, _ = median_time(
        lambda: build_view(entries, week=WEEK, tz=TZ, labels=labels, generated_at=GENERATED_AT),
        args.runs,
    )
    head = (
        f"{'format':<11} {'tracker s':>9} {'size MB':>8} {'target':>7}   "
        f"{'baseline':<32} {'base s':>7} {'ratio':>6}"
    )
    print()
    print(head)
    print("-" * len(head))
    print(f"{'view':<11} {view_s:>9.3f} {'':>8} {'':>7}   (shared first step of every format)")
    missed = 0
    for fmt in FORMATS:
        ours, data = median_time(
            lambda fmt=fmt: render_export(
                fmt, entries, week=WEEK, tz=TZ, labels=labels, generated_at=GENERATED_AT
            ),
            args.runs,
        )
        name, naive = BASELINES[fmt]
        base, _ = median_time(lambda naive=naive: naive(entries, labels), args.runs)
        ok = ours < TARGET_S
        missed += not ok
        size = len(data) / 1e6 if isinstance(data, bytes) else 0.0
        print(
            f"{fmt:<11} {ours:>9.3f} {size:>8.2f} {'OK' if ok else 'MISSED':>7}   "
            f"{name:<32} {base:>7.3f} {base / ours:>5.2f}x"
        )
    print()
    print(
        "tracker s: median wall time of render_export (view included); ratio: baseline time "
        "/ tracker time (above 1: tracker is faster). Baselines write less (no chart, no "
        "Arabic dates, no bidi isolation), so a ratio below 1 is expected for some formats."
    )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
