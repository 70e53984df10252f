"""The week as every export reads it: events with their Arabic words, grouped by day.

``build_view`` is the one place that asks ``Labels`` (once per type and per entity, not once
per event), decides each event's day and sorts. The renderers only lay the view out.

An event's day: its ``event_date`` when the precision is ``day`` or ``week`` (the text gave a
calendar date, which no zone may shift), otherwise its ``sort_date`` read in the export's zone.
Days run in calendar order; inside a day, events run by ``sort_date`` then ``id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.alerts.render import Labels
from tracker.export._week import week_bounds, week_monday, zone
from tracker.model import SourceView, TimelineEntry, TimelineEvent
from tracker.text.plural import reported_by as _reported_by
from tracker.text.safe import terminal_text

DAY_NAMES_AR = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
MONTHS_AR = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)
STATUS_AR = {
    "reported": "مُبلَّغ عنه",
    "confirmed": "مؤكَّد",
    "denied": "منفي",
    "planned": "مخطَّط",
    "rumoured": "غير مؤكَّد",
}
PRECISION_AR = {"day": "يوم", "week": "أسبوع", "month": "شهر", "quarter": "ربع سنة", "year": "سنة"}
WORDS_AR = {
    "title": "الخط الزمني لسباق رقائق الذكاء الاصطناعي",
    "week": "الأسبوع",
    "period": "الفترة",
    "timezone": "المنطقة الزمنية",
    "generated": "أُنشئ في",
    "events": "الأحداث",
    "entities": "الجهات",
    "status": "الحالة",
    "date": "التاريخ",
    "precision": "الدقة",
    "sources": "المصادر",
    "unknown": "غير محدد",
    "first_report": "تاريخ أول تقرير",
    "no_events": "لا توجد أحداث في هذا الأسبوع.",
    "chart": "عدد الأحداث في كل يوم حسب النوع",
}
# The taxonomy's order (DESIGN.md); types the operator adds follow, alphabetically.
TYPE_ORDER = (
    "export_permit",
    "export_restriction",
    "purchase_guidance",
    "security_review",
    "mass_production",
    "chip_launch",
    "financial_results",
    "supply_constraint",
)


def arabic_date(day: date) -> str:
    """``الاثنين 25 أغسطس 2025``: the weekday, day, month and year, in Arabic words."""
    return f"{DAY_NAMES_AR[day.weekday()]} {day.day} {MONTHS_AR[day.month - 1]} {day.year}"


def reported_by(n: int) -> str:
    """``أوردته N وسائل إعلام`` with the Arabic number agreement (CLDR plural rules)."""
    return _reported_by(n, "ar")


_HTTP_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host and no whitespace, else None
    (so a ``javascript:`` or ``data:`` URL from a feed never becomes a link)."""
    if url and _HTTP_URL.fullmatch(url := url.strip()):
        return url
    return None


def utc_iso(when: datetime | None) -> str | None:
    """``2025-08-25T09:30:00Z`` for an aware datetime, None for None."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class EventView:
    """One timeline event with everything a renderer prints, already looked up."""

    event: TimelineEvent
    sources: tuple[SourceView, ...]
    day: date
    type_label_ar: str
    type_label_en: str
    entity_labels: tuple[str, ...]  # Arabic, in the order of ``event.entities``
    status_ar: str
    links: tuple[str | None, ...]  # each source's URL when safe to link (see safe_url)
    source_count: int  # the event's count, never fewer than the sources listed

    @property
    def outlet_count(self) -> int:
        """Distinct outlets that reported the event, never fewer than those listed."""
        return max(self.event.outlet_count, len({s.outlet for s in self.sources}))

    @property
    def first_url(self) -> str | None:
        """The first source URL that is safe to link."""
        return next((u for u in self.links if u), None)

    @property
    def linked_sources(self) -> tuple[tuple[SourceView, str | None], ...]:
        return tuple(zip(self.sources, self.links, strict=True))

    @property
    def date_value(self) -> str | None:
        return self.event.event_date.value if self.event.event_date else None

    @property
    def precision(self) -> str | None:
        return self.event.event_date.precision if self.event.event_date else None

    @property
    def precision_ar(self) -> str:
        p = self.precision
        return PRECISION_AR.get(p, p) if p else WORDS_AR["unknown"]

    @property
    def date_text_ar(self) -> str:
        """``2025-07 (الدقة: شهر)``; when the text gave no date, the day the event is filed
        under (its first report, in the export's zone): ``2026-12-07 (تاريخ أول تقرير)``."""
        if self.date_value is None:
            return f"{self.day.isoformat()} ({WORDS_AR['first_report']})"
        return f"{self.date_value} ({WORDS_AR['precision']}: {self.precision_ar})"


@dataclass(frozen=True)
class DayView:
    """One day of the week and its events (possibly none)."""

    day: date
    events: tuple[EventView, ...]

    @property
    def label_ar(self) -> str:
        return arabic_date(self.day)

    @property
    def short_label_ar(self) -> str:
        return f"{DAY_NAMES_AR[self.day.weekday()]} {self.day.day}"


@dataclass(frozen=True)
class WeekView:
    """The whole export: the week, its zone and days, and the types that occur in it."""

    week: str
    tz: str
    start: datetime  # aware UTC, included
    end: datetime  # aware UTC, excluded
    generated_at: datetime  # aware UTC
    days: tuple[DayView, ...]  # the week's seven days, plus any day an event falls on outside
    types: tuple[tuple[str, str], ...]  # (type id, Arabic label), in taxonomy order
    installation: str = ""  # this installation's id (calendar UIDs never collide)

    @property
    def events(self) -> tuple[EventView, ...]:
        return tuple(e for d in self.days for e in d.events)

    @property
    def event_days(self) -> tuple[DayView, ...]:
        return tuple(d for d in self.days if d.events)

    @property
    def generated_local(self) -> str:
        """``generated_at`` in the export's zone: ``2026-12-07 11:00``."""
        return self.generated_at.astimezone(zone(self.tz)).strftime("%Y-%m-%d %H:%M")

    @property
    def first_day(self) -> date:
        return week_monday(self.week)

    @property
    def period_ar(self) -> str:
        first = self.first_day
        return f"{arabic_date(first)} – {arabic_date(first + timedelta(days=6))}"


def _cached(fn: Callable[[str, str], str]) -> Callable[[str, str], str]:
    """``fn`` asked once per argument pair; an unknown id (KeyError) reads as itself."""
    memo: dict[tuple[str, str], str] = {}

    def get(key: str, lang: str) -> str:
        try:
            return memo[(key, lang)]
        except KeyError:
            pass
        try:
            value = fn(key, lang)
        except KeyError:
            value = key
        memo[(key, lang)] = value
        return value

    return get


def event_day(event: TimelineEvent, tz: ZoneInfo) -> date:
    """The day an event is filed under (see the module docstring)."""
    ed = event.event_date
    if ed is not None and ed.precision in ("day", "week"):
        try:
            return date.fromisoformat(ed.value[:10])
        except ValueError:
            pass
    return event.sort_date.astimezone(tz).date()


def _type_key(type_id: str) -> tuple[int, str]:
    try:
        return (TYPE_ORDER.index(type_id), "")
    except ValueError:
        return (len(TYPE_ORDER), type_id)


def _plain(ev: TimelineEvent) -> TimelineEvent:
    """The event with control characters taken out of its feed strings (rows stored before
    ingest stripped them): no export carries an ESC sequence to whoever opens it."""
    headline, outlet = terminal_text(ev.headline), terminal_text(ev.first_outlet)
    evidence = tuple(terminal_text(e) for e in ev.evidence)
    if (headline, outlet, evidence) == (ev.headline, ev.first_outlet, ev.evidence):
        return ev
    return replace(ev, headline=headline, first_outlet=outlet, evidence=evidence)


def _plain_source(source: SourceView) -> SourceView:
    outlet, title = terminal_text(source.outlet), terminal_text(source.title)
    if (outlet, title) == (source.outlet, source.title):
        return source
    return replace(source, outlet=outlet, title=title)


def build_view(
    entries: Sequence[TimelineEntry],
    *,
    week: str,
    tz: str,
    labels: Labels,
    generated_at: datetime,
    installation: str = "",
) -> WeekView:
    """The week's view: every entry looked up, dated and sorted; ValueError on bad input."""
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise ValueError("generated_at must be an aware datetime")
    start, end = week_bounds(week, tz)
    zi = zone(tz)
    type_label = _cached(labels.labels)
    entity_label = _cached(labels.entity_label)
    by_day: dict[date, list[EventView]] = {}
    for entry in entries:
        ev, sources = _plain(entry.event), tuple(_plain_source(s) for s in entry.sources)
        view = EventView(
            event=ev,
            sources=sources,
            day=event_day(ev, zi),
            type_label_ar=type_label(ev.type, "ar"),
            type_label_en=type_label(ev.type, "en"),
            entity_labels=tuple(entity_label(e.id, "ar") for e in ev.entities),
            status_ar=STATUS_AR.get(ev.status, ev.status),
            links=tuple(safe_url(s.url) for s in sources),
            source_count=max(ev.source_count, len(sources)),
        )
        by_day.setdefault(view.day, []).append(view)
    monday = week_monday(week)
    for i in range(7):
        by_day.setdefault(monday + timedelta(days=i), [])
    days = tuple(
        DayView(day, tuple(sorted(evs, key=lambda v: (v.event.sort_date, v.event.id))))
        for day, evs in sorted(by_day.items())
    )
    type_ids = sorted({v.event.type for d in days for v in d.events}, key=_type_key)
    return WeekView(
        week=week,
        tz=tz,
        start=start,
        end=end,
        generated_at=generated_at.astimezone(UTC),
        days=days,
        types=tuple((t, type_label(t, "ar")) for t in type_ids),
        installation=installation,
    )
