"""A week of generated timeline entries with hostile strings, shared by the export tests
and ``bench/bench_export.py``.

Headlines mix Arabic with what breaks naive exporters: markup (``<b>``, ``&``, ``"``),
CSV separators and formulas (``,``, ``=SUM(A1)``, a leading ``-``/``+``/``@``), Markdown
markup (``[`` ``]`` ``*`` ``_`` ``|``), line breaks, Latin product names and Arabic-Indic
digits. Everything is seeded: the same ``n`` and ``seed`` give the same entries.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from tracker.model import EntityRef, EventDate, SourceView, TimelineEntry, TimelineEvent

TYPE_LABELS = {
    "export_permit": ("تصريح تصدير", "Export permit"),
    "export_restriction": ("قيود تصدير", "Export restriction"),
    "purchase_guidance": ("توجيه بشأن الشراء", "Purchase guidance"),
    "security_review": ("مراجعة أمنية", "Security review"),
    "mass_production": ("إنتاج ضخم", "Mass production"),
    "chip_launch": ("إطلاق شريحة", "Chip launch"),
    "financial_results": ("نتائج مالية", "Financial results"),
    "supply_constraint": ("قيود الإمداد", "Supply constraint"),
}
ENTITIES = {
    "nvidia": ("company", "إنفيديا", "Nvidia"),
    "h20": ("product", "Nvidia H20", "Nvidia H20"),
    "huawei": ("company", "هواوي", "Huawei"),
    "ascend_910c": ("product", "أسيند 910C", "Ascend 910C"),
    "alibaba": ("company", "علي بابا", "Alibaba"),
    "metax": ("company", "ميتا إكس", "MetaX"),
    "china_gov": ("government", "الحكومة الصينية", "Chinese government"),
    "us_gov": ("government", "الحكومة الأمريكية", "US government"),
    "odd": ("company", 'شركة "A&B" <رقائق>, المحدودة', 'A&B "Chips" <Ltd>'),
}
OUTLETS = (
    "العربية",
    "الجزيرة نت",
    "سكاي نيوز عربية",
    "Reuters عربي",
    "الشرق | بلومبرغ",
    "عرب=نيوز",
)
FRAGMENTS = (
    "ترامب يسمح لـNvidia H20 بالعودة إلى الصين",
    '<b>عاجل</b> & "حصري"',
    "إيرادات, أرباح, ونمو",
    "=SUM(A1) في جدول الإيرادات",
    "هواوي تشحن Ascend 910C في الربع ٣ من ٢٠٢٥",
    "سطر أول\nسطر ثان",
    "[تحديث] *مهم* _جدا_ | مصدر",
    "رقائق بقيمة ١٠٠ مليون دولار",
    "علي بابا تطور شريحة استدلال جديدة",
    "ميتا إكس تستعد للإنتاج الضخم",
    "بكين تطلب من الشركات عدم شراء الرقائق \\ مصادر",
    "نمو ٢٦٪ في إيرادات الحوسبة السحابية",
)
STARTS = ("", "", "", "=", "-", "+", "@", "")
WEEK = "2025-W35"
TZ = "Asia/Riyadh"
GENERATED_AT = datetime(2025, 9, 1, 3, 0, tzinfo=UTC)
STATUSES = ("reported", "confirmed", "denied", "planned", "rumoured")


class FakeLabels:
    """Labels of the taxonomy and gazetteer above; unknown ids raise KeyError like the engine."""

    def labels(self, type_id: str, lang: str) -> str:
        ar, en = TYPE_LABELS[type_id]
        return ar if lang == "ar" else en

    def entity_label(self, entity_id: str, lang: str) -> str:
        _, ar, en = ENTITIES[entity_id]
        return ar if lang == "ar" else en


def _event_date(rng: random.Random, day: date) -> EventDate | None:
    kind = rng.choice(("day", "day", "day", "day", "week", "month", "quarter", "year", None))
    if kind is None:
        return None
    if kind == "day":
        return EventDate(day.isoformat(), "day")
    if kind == "week":
        return EventDate((day - timedelta(days=day.weekday())).isoformat(), "week")
    if kind == "month":
        return EventDate(f"{day.year}-{day.month:02d}", "month")
    if kind == "quarter":
        return EventDate(f"{day.year}-Q{(day.month - 1) // 3 + 1}", "quarter")
    return EventDate(str(day.year), "year")


def make_entries(n: int, monday: date = date(2025, 8, 25), seed: int = 35) -> list[TimelineEntry]:
    """``n`` entries spread over the week that starts on ``monday`` (Riyadh time)."""
    rng = random.Random(seed)
    types = list(TYPE_LABELS)
    ids = list(ENTITIES)
    out = []
    for i in range(n):
        day = monday + timedelta(days=rng.randrange(7))
        # 09:00–20:59 Riyadh is 06:00–17:59 UTC: the same calendar day in both zones.
        sort_date = datetime(
            day.year, day.month, day.day, rng.randrange(6, 18), rng.randrange(60), tzinfo=UTC
        )
        headline = (
            rng.choice(STARTS) + " ".join(rng.sample(FRAGMENTS, rng.randint(1, 3))) + f" #{i}"
        )
        entities = tuple(
            EntityRef(e, ENTITIES[e][0], rng.choice(("actor", "target", "product", "mention")))
            for e in rng.sample(ids, rng.randint(0, 3))
        )
        sources = tuple(
            SourceView(
                outlet=rng.choice(OUTLETS),
                url=f'https://news{k}.example/ar/{i}?q=رقائق&a=1&b="x"' if k != 3 else None,
                published=sort_date + timedelta(minutes=10 * k),
                fetched=sort_date + timedelta(minutes=10 * k + 3),
                title=rng.choice(FRAGMENTS),
            )
            for k in range(rng.randint(1, 4))
        )
        event = TimelineEvent(
            id=1000 + i,
            type=rng.choice(types),
            headline=headline,
            entities=entities,
            event_date=_event_date(rng, day),
            sort_date=sort_date,
            status=rng.choice(STATUSES),
            first_seen=sources[0].fetched,
            first_outlet=sources[0].outlet,
            source_count=len(sources),
            alerted=bool(i % 2),
            evidence=("سمحت", "H20"),
        )
        out.append(TimelineEntry(event, sources))
    return out
