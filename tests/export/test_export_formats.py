"""Every export format of a hostile 200-event week parses back with its standard parser and
keeps every Arabic string intact; empty weeks stay valid."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import icalendar
import pytest
from export_fixtures import GENERATED_AT, TZ, WEEK, FakeLabels
from icalendar.parser import Contentline

from tracker.export import EXTENSIONS, FORMATS, MEDIA_TYPES, render_export
from tracker.export._csv import FORMULA_START, HEADER, undefuse
from tracker.export._ics import calendar, fold, render_ics
from tracker.export._markdown import escape_md
from tracker.export._view import build_view, reported_by
from tracker.model import EntityRef, EventDate, SourceView, TimelineEntry, TimelineEvent

RTL_DIV = '<div dir="rtl" lang="ar" style="text-align: right">'


def render(fmt: str, entries: list[TimelineEntry], labels: FakeLabels) -> bytes:
    return render_export(fmt, entries, week=WEEK, tz=TZ, labels=labels, generated_at=GENERATED_AT)


def _by_id(entries: list[TimelineEntry]) -> dict[int, TimelineEntry]:
    return {e.event.id: e for e in entries}


# --- CSV ---------------------------------------------------------------------------------


def test_csv_parses_back_with_bom_and_intact_arabic(entries200, labels) -> None:
    """The CSV starts with a UTF-8 BOM, has one row per event and gives back every string."""
    data = render("csv", entries200, labels)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == HEADER
    assert len(rows) == 201
    want = _by_id(entries200)
    for row in rows[1:]:
        cell = dict(zip(HEADER, row, strict=True))
        entry = want[int(cell["id"])]
        ev = entry.event
        assert undefuse(cell["headline"]) == ev.headline
        assert undefuse(cell["type_label"]) == labels.labels(ev.type, "ar")
        assert undefuse(cell["entities"]) == " | ".join(
            labels.entity_label(e.id, "ar") for e in ev.entities
        )
        assert undefuse(cell["first_outlet"]) == ev.first_outlet
        assert int(cell["source_count"]) == len(entry.sources)
        assert cell["source_urls"].split(" ") == [s.url for s in entry.sources if s.url]
        assert cell["date"] == (ev.event_date.value if ev.event_date else "")


def test_csv_neutralises_formulas(entries200, labels) -> None:
    """No cell begins with = + - @ (a leading apostrophe is added), and the generated week
    really holds headlines that would have."""
    rows = list(
        csv.reader(io.StringIO(render("csv", entries200, labels).decode("utf-8-sig"), newline=""))
    )
    assert not [c for r in rows for c in r if c.startswith(FORMULA_START)]
    defused = [
        r[HEADER.index("headline")] for r in rows[1:] if r[HEADER.index("headline")].startswith("'")
    ]
    assert {h[1] for h in defused} == {"=", "-", "+", "@"}
    assert any(e.event.headline.startswith("=SUM(A1)") for e in entries200)


# --- JSON --------------------------------------------------------------------------------


def test_json_parses_back_with_intact_arabic(entries200, labels) -> None:
    """The JSON loads, keeps Arabic unescaped (no \\u escapes) and gives back every field."""
    data = render("json", entries200, labels)
    assert b"\\u06" not in data and "إنفيديا".encode() in data
    assert data.count(b"\n") == 200 + 2  # one event per line, between the head and the end
    doc = json.loads(data)
    assert (doc["week"], doc["timezone"], doc["generated_at"]) == (WEEK, TZ, "2025-09-01T03:00:00Z")
    assert len(doc["events"]) == 200
    want = _by_id(entries200)
    for got in doc["events"]:
        entry = want[got["id"]]
        ev = entry.event
        assert got["headline"] == ev.headline
        assert got["type"] == ev.type
        assert got["type_label_ar"] == labels.labels(ev.type, "ar")
        assert got["type_label_en"] == labels.labels(ev.type, "en")
        assert got["entities"] == [
            {"id": e.id, "kind": e.kind, "role": e.role, "label": labels.entity_label(e.id, "ar")}
            for e in ev.entities
        ]
        assert got["event_date"] == (ev.event_date.value if ev.event_date else None)
        assert got["precision"] == (ev.event_date.precision if ev.event_date else None)
        assert got["status"] == ev.status
        assert got["first_outlet"] == ev.first_outlet
        assert got["source_count"] == ev.source_count
        assert got["evidence"] == list(ev.evidence)
        assert [(s["outlet"], s["url"], s["title"]) for s in got["sources"]] == [
            (s.outlet, s.url, s.title) for s in entry.sources
        ]
        assert datetime.fromisoformat(got["first_seen"]) == ev.first_seen


# --- iCalendar ---------------------------------------------------------------------------


def _events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def test_ics_parses_back_with_intact_arabic(entries200, labels) -> None:
    """The calendar parses with icalendar, one VEVENT per event, summary and description
    intact (commas, quotes, newlines and Arabic included)."""
    got = _events(render("ics", entries200, labels))
    assert len(got) == 200
    want = {f"event-{e.event.id}@tracker": e for e in entries200}
    for vev in got:
        entry = want[str(vev["UID"])]
        ev = entry.event
        assert str(vev["SUMMARY"]) == f"{labels.labels(ev.type, 'ar')}: {ev.headline}"
        desc = str(vev["DESCRIPTION"])
        for e in ev.entities:
            assert labels.entity_label(e.id, "ar") in desc
        for s in entry.sources:
            assert (f"- {s.outlet}: {s.url}" if s.url else f"- {s.outlet}") in desc
        assert vev["CATEGORIES"].cats == [ev.type]
        assert vev.decoded("DTSTAMP") == GENERATED_AT
        first_url = next((s.url for s in entry.sources if s.url), None)
        assert (str(vev["URL"]) if "URL" in vev else None) == first_url


def test_ics_all_day_and_dtend_after_dtstart(entries200, labels) -> None:
    """Day-precision events are all-day on their own date; every DTEND is the next day."""
    want = {f"event-{e.event.id}@tracker": e.event for e in entries200}
    seen_day = 0
    for vev in _events(render("ics", entries200, labels)):
        start, end = vev.decoded("DTSTART"), vev.decoded("DTEND")
        assert type(start) is date and type(end) is date
        assert b"DTSTART;VALUE=DATE:" in vev.to_ical() and b"DTEND;VALUE=DATE:" in vev.to_ical()
        assert end == start + timedelta(days=1) and end > start
        ev = want[str(vev["UID"])]
        if ev.event_date and ev.event_date.precision == "day":
            assert start == date.fromisoformat(ev.event_date.value)
            seen_day += 1
    assert seen_day > 50


def test_ics_uids_stable_across_renders(entries200, labels) -> None:
    """Two renders (even with a different event order and stamp) give the same UIDs."""
    first = [str(v["UID"]) for v in _events(render("ics", entries200, labels))]
    second = render_export(
        "ics",
        list(reversed(entries200)),
        week=WEEK,
        tz=TZ,
        labels=labels,
        generated_at=GENERATED_AT + timedelta(days=7),
    )
    assert sorted(first) == sorted(str(v["UID"]) for v in _events(second))
    assert len(set(first)) == 200


def test_ics_month_precision_is_all_day_with_precision_in_description(labels) -> None:
    """A month-precision event is one all-day event on its sort day, the month and the
    precision written in the description."""
    ev = TimelineEvent(
        7,
        "chip_launch",
        "ميتا إكس أطلقت شريحة في يوليو",
        (),
        EventDate("2025-07", "month"),
        datetime(2025, 8, 27, 9, tzinfo=UTC),
        "reported",
        datetime(2025, 8, 27, 9, tzinfo=UTC),
        "العربية",
        1,
        False,
        (),
    )
    (vev,) = _events(render("ics", [TimelineEntry(ev, ())], labels))
    assert vev.decoded("DTSTART") == date(2025, 8, 27)
    assert "2025-07 (الدقة: شهر)" in str(vev["DESCRIPTION"])


def test_ics_fast_writer_matches_icalendar_byte_for_byte(entries200, labels) -> None:
    """The export's own line writer gives exactly the bytes of icalendar's Calendar.to_ical."""
    view = build_view(entries200, week=WEEK, tz=TZ, labels=labels, generated_at=GENERATED_AT)
    assert render_ics(view) == calendar(view).to_ical()


@pytest.mark.parametrize(
    "line",
    [
        "SUMMARY:" + "ش" * 100,
        "SUMMARY:" + "a" * 65 + "\\n" + "b" * 40,
        "SUMMARY:" + "a" * 64 + "\\n" + "b" * 40,
        "DESCRIPTION:" + "مُبلَّغ عنه " * 20,
        "X:" + "a" * 71 + "^n" + "ب" * 50,
        "URL:https://x.example/" + "é" * 80,
        "SUMMARY:short",
    ],
)
def test_ics_fold_matches_icalendar(line: str) -> None:
    """Folding never splits a UTF-8 sequence or an escape, exactly like icalendar does."""
    assert fold(line) == Contentline(line).to_ical()
    assert all(len(part) <= 75 for part in fold(line).split(b"\r\n"))
    assert fold(line).replace(b"\r\n ", b"").decode() == line


# --- HTML --------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects what the HTML tests look at: tags, attributes, headline texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headlines: dict[str, str] = {}
        self._article: str | None = None
        self._in_headline = 0
        self._buf: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "article":
            self._article = a.get("id")
        if tag == "h3" and "headline" in (a.get("class") or ""):
            self._in_headline, self._buf = 1, []
        elif self._in_headline:
            self._in_headline += 1

    def handle_endtag(self, tag: str) -> None:
        if self._in_headline:
            self._in_headline -= 1
            if not self._in_headline and self._article:
                self.headlines[self._article] = "".join(self._buf)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_headline:
            self._buf.append(data)


def _parse(data: bytes) -> _Page:
    page = _Page()
    page.feed(data.decode("utf-8"))
    page.close()
    return page


def test_html_parses_back_with_intact_headlines(entries200, labels) -> None:
    """Every headline, read back from the page's text, equals the original exactly."""
    page = _parse(render("html", entries200, labels))
    assert page.headlines == {f"event-{e.event.id}": e.event.headline for e in entries200}
    text = "".join(page.text)
    for e in entries200:
        for s in e.sources:
            assert s.outlet in text
        for ent in e.event.entities:
            assert labels.entity_label(ent.id, "ar") in text


def test_html_is_rtl_self_contained_and_phone_ready(entries200, labels) -> None:
    """The page is Arabic and right to left, has a viewport, and loads nothing from outside:
    no script, no stylesheet link, no src attribute, a CSP that forbids fetching."""
    data = render("html", entries200, labels)
    page = _parse(data)
    html_attrs = next(a for t, a in page.tags if t == "html")
    assert html_attrs == {"lang": "ar", "dir": "rtl"}
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in page.tags)
    assert not [t for t, _ in page.tags if t in ("script", "iframe", "img", "object")]
    assert not [a for _, a in page.tags if "src" in a]
    links = [a for t, a in page.tags if t == "link"]
    assert all(a.get("href", "").startswith("data:") for a in links)
    csp = next(
        a["content"]
        for t, a in page.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None and "default-src 'none'" in csp
    assert b"@import" not in data and b"url(" not in data
    # Only the template's own tags: none of the feed's "<b>" or "<رقائق>" became markup.
    assert {t for t, _ in page.tags} <= set(
        [
            "html",
            "head",
            "meta",
            "link",
            "title",
            "style",
            "body",
            "main",
            "header",
            "h1",
            "h2",
            "h3",
            "p",
            "span",
            "bdi",
            "time",
            "figure",
            "figcaption",
            "svg",
            "line",
            "text",
            "g",
            "rect",
            "ul",
            "li",
            "section",
            "article",
            "dl",
            "dt",
            "dd",
            "a",
        ]
    )


def test_html_links_every_source_safely(entries200, labels) -> None:
    """Each http(s) source is a link opening in a new tab with rel=noopener; others are text."""
    page = _parse(render("html", entries200, labels))
    anchors = [a for t, a in page.tags if t == "a"]
    urls = [s.url for e in entries200 for s in e.sources if s.url]
    assert sorted(a["href"] or "" for a in anchors) == sorted(urls)
    assert all(a.get("rel") == "noopener" and a.get("target") == "_blank" for a in anchors)


def test_html_chart_has_a_bar_group_per_day_and_a_legend(entries200, labels) -> None:
    """The inline SVG has one bar group per day of the week, totals that add up to the
    events, and a legend with every type's Arabic label."""
    page = _parse(render("html", entries200, labels))
    groups = [a for t, a in page.tags if t == "g" and a.get("class") == "day"]
    assert [g["data-day"] for g in groups] == [
        (date(2025, 8, 25) + timedelta(days=i)).isoformat() for i in range(7)
    ]
    assert sum(int(g["data-total"] or 0) for g in groups) == 200
    assert sum(1 for t, a in page.tags if t == "rect" and a.get("class") == "segment") >= 7
    text = "".join(page.text)
    for type_id in {e.event.type for e in entries200}:
        assert labels.labels(type_id, "ar") in text


def test_html_does_not_link_javascript_urls(labels) -> None:
    """A source URL that is not http(s) is shown as text, never as a link."""
    ev = TimelineEvent(
        1,
        "export_permit",
        "خبر",
        (),
        None,
        datetime(2025, 8, 26, tzinfo=UTC),
        "reported",
        datetime(2025, 8, 26, tzinfo=UTC),
        "x",
        1,
        False,
        (),
    )
    src = SourceView(
        "مصدر <script>", "javascript:alert(1)", None, datetime(2025, 8, 26, tzinfo=UTC)
    )
    data = render("html", [TimelineEntry(ev, (src,))], labels)
    assert b"javascript:" not in data and b"<script>" not in data
    assert "مصدر <script>" in "".join(_parse(data).text)


def test_html_isolates_latin_names(labels) -> None:
    """Latin names inside Arabic headlines are wrapped in <bdi dir="ltr">."""
    ev = TimelineEvent(
        1,
        "export_permit",
        "ترامب يسمح لـNvidia H20 بالعودة",
        (),
        None,
        datetime(2025, 8, 26, tzinfo=UTC),
        "reported",
        datetime(2025, 8, 26, tzinfo=UTC),
        "x",
        1,
        False,
        (),
    )
    data = render("html", [TimelineEntry(ev, ())], labels).decode()
    assert 'لـ<bdi dir="ltr">Nvidia H20</bdi> بالعودة' in data


# --- Markdown ----------------------------------------------------------------------------


def test_markdown_holds_every_headline_escaped(entries200, labels) -> None:
    """Every headline appears escaped, with no raw markup from the feed left in the file."""
    text = render("md", entries200, labels).decode("utf-8")
    for e in entries200:
        assert escape_md(e.event.headline) in text
    assert "<b>" not in text and "[تحديث]" not in text and "=SUM(A1)" not in text
    assert r"\<b\>" in text and r"\[تحديث\]" in text


def test_markdown_escape_round_trips() -> None:
    """Removing the backslashes of escape_md gives back the text with line breaks as spaces."""
    raw = "أ [ب] *ج* _د_ | <هـ> & \\ `ز` ~ح~ !ط $ي$ (Nvidia H20)\nسطر"
    escaped = escape_md(raw)
    assert "\n" not in escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == raw.replace("\n", " ")
    unescaped_rest = re.sub(r"\\.", "", escaped)
    assert not set(unescaped_rest) & set("[]*_|<>&`~!$()\\")


def test_markdown_groups_by_day_in_arabic(entries200, labels) -> None:
    """Days appear as Arabic headings in calendar order, each event with its outlets line."""
    text = render("md", entries200, labels).decode("utf-8")
    headings = re.findall(r"^## \u200f(.+)$", text, flags=re.M)
    assert headings[0] == "الاثنين 25 أغسطس 2025"
    assert headings[-1] == "الأحد 31 أغسطس 2025"
    assert text.count("\n### ") == 200
    assert "أوردته" in text and "[العربية](<https://" in text


def test_markdown_lines_start_right_to_left(entries200, labels) -> None:
    """Every text line carries a right-to-left mark after its Markdown marker, so a heading
    that starts with "H20" still reads right to left in a left-to-right viewer."""
    text = render("md", entries200, labels).decode("utf-8")
    for line in text.splitlines():
        if line:
            marker = re.match(r"^(#{1,6} |- |)", line)
            assert marker is not None
            assert line[len(marker.group(1))] == "\u200f", line


def test_undated_event_shows_its_first_report_day_in_the_zone(labels) -> None:
    """An event without a text date reads as the day of its first report in the export's
    zone (23:30 UTC on Sunday is Monday in Riyadh), never "غير محدد"."""
    from tracker.export import render_export
    from tracker.model import TimelineEntry, TimelineEvent

    when = datetime(2025, 8, 24, 23, 30, tzinfo=UTC)
    ev = TimelineEvent(1, "chip_launch", "x", (), None, when, "reported", when, "o", 1, False,
                       ())
    md = render_export("md", [TimelineEntry(ev, ())], week="2025-W35", tz="Asia/Riyadh",
                       labels=labels, generated_at=when).decode("utf-8")
    assert "2025-08-25 \\(تاريخ أول تقرير\\)" in md and "التاريخ:** غير محدد" not in md


def test_ics_uids_carry_the_installation_id(entries200, labels) -> None:
    """Two installations export the same event id under different UIDs."""
    from tracker.export import render_export

    def uids(installation: str) -> set[str]:
        data = render_export("ics", entries200[:3], week="2025-W35", tz="Asia/Riyadh",
                             labels=labels, generated_at=datetime(2025, 9, 1, tzinfo=UTC),
                             installation=installation).decode("utf-8")
        return set(re.findall(r"^UID:(.+?)\r$", data, flags=re.M))

    a, b = uids("aaaa1111"), uids("bbbb2222")
    assert len(a) == 3 and not a & b
    assert all(u.endswith("-aaaa1111@tracker") for u in a)


def test_reported_by_agrees_with_the_number() -> None:
    """The outlet count reads as Arabic grammar wants for 1, 2, 3–10 and 11+."""
    assert reported_by(1) == "أوردته وسيلة إعلام واحدة"
    assert reported_by(2) == "أوردته وسيلتا إعلام"
    assert reported_by(4) == "أوردته 4 وسائل إعلام"
    assert reported_by(11) == "أوردته 11 وسيلة إعلام"


# --- TimelineJS --------------------------------------------------------------------------


def _strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_timelinejs_parses_back_with_intact_arabic(entries200, labels) -> None:
    """The TimelineJS JSON loads, has one slide per event with a unique id, its headline
    HTML-escaped in a right-to-left wrapper, and the text back intact once tags are removed."""
    doc = json.loads(render("timelinejs", entries200, labels))
    assert doc["title"]["text"]["headline"].startswith(RTL_DIV)
    assert len(doc["events"]) == 200
    want = _by_id(entries200)
    ids = set()
    for slide in doc["events"]:
        ev = want[int(slide["unique_id"].removeprefix("event-"))].event
        ids.add(slide["unique_id"])
        assert slide["text"]["headline"].startswith(RTL_DIV)
        assert "<b>" not in slide["text"]["headline"]
        assert _strip_tags(slide["text"]["headline"]) == ev.headline
        assert slide["group"] == labels.labels(ev.type, "ar")
        assert int(slide["start_date"]["year"]) >= 2025
        if ev.event_date and ev.event_date.precision == "month":
            assert "day" not in slide["start_date"]
    assert len(ids) == 200


# --- all formats -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_week_is_valid(fmt: str, labels) -> None:
    """An empty week still gives a valid file, with a "no events" note where people read it."""
    data = render(fmt, [], labels)
    note = "لا توجد أحداث في هذا الأسبوع."
    if fmt == "csv":
        assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [list(HEADER)]
    elif fmt == "json":
        assert json.loads(data)["events"] == []
    elif fmt == "ics":
        cal = icalendar.Calendar.from_ical(data)
        assert cal.walk("VEVENT") == [] and str(cal["VERSION"]) == "2.0"
    elif fmt == "timelinejs":
        doc = json.loads(data)
        assert doc["events"] == [] and note in doc["title"]["text"]["text"]
    else:
        assert note in data.decode("utf-8")
    if fmt == "html":
        page = _parse(data)
        assert sum(1 for t, a in page.tags if t == "g" and a.get("class") == "day") == 7


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_is_deterministic(fmt: str, entries200, labels) -> None:
    """The same input gives the same bytes, whatever the order of the entries."""
    assert render(fmt, entries200, labels) == render(fmt, list(reversed(entries200)), labels)


def test_extensions_and_media_types_cover_every_format() -> None:
    """The CLI can name and label a file of every format."""
    assert set(EXTENSIONS) == set(MEDIA_TYPES) == set(FORMATS)


def test_bad_input_raises_value_error(entries200, labels) -> None:
    """Unknown format, malformed week and naive generated_at raise clear ValueErrors."""
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        render("pdf", entries200, labels)
    with pytest.raises(ValueError, match="malformed week"):
        render_export("md", [], week="2025-35", tz=TZ, labels=labels, generated_at=GENERATED_AT)
    with pytest.raises(ValueError, match="aware"):
        render_export("md", [], week=WEEK, tz=TZ, labels=labels, generated_at=datetime(2025, 9, 1))


def test_event_day_rules(labels) -> None:
    """A day-precision event is filed under its date; a month-precision one under its sort
    date read in the export zone (Sunday 22:00 UTC is Monday in Riyadh)."""
    sort = datetime(2025, 8, 24, 22, 0, tzinfo=UTC)

    def mk(i: int, d: EventDate | None) -> TimelineEntry:
        ent = (EntityRef("nvidia", "company", "actor"),)
        ev = TimelineEvent(
            i, "export_permit", f"حدث {i}", ent, d, sort, "reported", sort, "x", 1, False, ()
        )
        return TimelineEntry(ev, ())

    doc = json.loads(
        render(
            "json",
            [
                mk(1, EventDate("2025-08-28", "day")),
                mk(2, EventDate("2025-08", "month")),
                mk(3, None),
            ],
            labels,
        )
    )
    assert [(e["id"], e["day"]) for e in doc["events"]] == [
        (2, "2025-08-25"),
        (3, "2025-08-25"),
        (1, "2025-08-28"),
    ]


def test_unknown_type_and_entity_fall_back_to_their_ids(labels) -> None:
    """A type or entity the labels do not know is shown by its id instead of failing."""
    ev = TimelineEvent(
        1,
        "new_type",
        "خبر",
        (EntityRef("mystery", "company", "actor"),),
        None,
        datetime(2025, 8, 26, tzinfo=UTC),
        "reported",
        datetime(2025, 8, 26, tzinfo=UTC),
        "x",
        1,
        False,
        (),
    )
    doc = json.loads(render("json", [TimelineEntry(ev, ())], labels))
    assert doc["events"][0]["type_label_ar"] == "new_type"
    assert doc["events"][0]["entities"][0]["label"] == "mystery"
