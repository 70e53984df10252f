"""A rule-based temporal tagger: date expressions in a match key, resolved against publication.

Order of decisions: explicit dates (day month year, month year, dual month names such as
نيسان/أبريل, the three month-name sets) first; then quarters (الربع الثاني من 2025، الربع
الماضي); then relative periods (الأسبوع/الشهر/العام الماضي/المقبل); then weekdays (يوم
الأربعاء، الأربعاء الماضي); then "ago" spans (منذ 3 أشهر); then bare years (عام 2024). A later
pattern never overrides an earlier one on the same characters. Without a publication time only
expressions that carry their own year resolve. A month without a year is the latest such month
not after publication, or the next one when the event is planned. Time is always an input.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ahocorasick

from tracker.model import EventDate

_MONTHS: dict[str, int] = {
    "يناير": 1, "كانون الثاني": 1, "جانفي": 1, "فبراير": 2, "شباط": 2, "فيفري": 2,
    "مارس": 3, "اذار": 3, "ابريل": 4, "نيسان": 4, "افريل": 4, "مايو": 5, "ايار": 5, "ماي": 5,
    "يونيو": 6, "يونيه": 6, "حزيران": 6, "جوان": 6, "يوليو": 7, "يوليه": 7, "تموز": 7,
    "جويليه": 7, "جويلييه": 7, "اغسطس": 8, "اب": 8, "اوت": 8, "سبتمبر": 9, "ايلول": 9,
    "اكتوبر": 10, "تشرين الاول": 10, "نوفمبر": 11, "تشرين الثاني": 11, "ديسمبر": 12,
    "كانون الاول": 12,
}
_WEEKDAYS = {"اثنين": 0, "ثلاثاء": 1, "اربعاء": 2, "خميس": 3, "جمعه": 4, "سبت": 5, "احد": 6}
_NUMBER_WORDS = {
    "واحد": 1, "اثنين": 2, "ثلاث": 3, "ثلاثه": 3, "اربع": 4, "اربعه": 4, "خمس": 5, "خمسه": 5,
    "سته": 6, "ست": 6, "سبع": 7, "سبعه": 7, "ثماني": 8, "ثمانيه": 8, "تسع": 9, "تسعه": 9,
    "عشر": 10, "عشره": 10,
}
_ORDINALS = {"الاول": 1, "الثاني": 2, "الثالث": 3, "الرابع": 4, "الاخير": 4}
_PAST = {"الماضي", "الماضيه", "المنصرم", "المنصرمه", "السابق", "الفاءت"}
_NEXT = {"المقبل", "المقبله", "القادم", "القادمه"}

_MONTH_ALT = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_REL_ALT = "|".join(sorted(_PAST | _NEXT | {"الجاري", "الحالي", "الحاليه"}, key=len, reverse=True))
_PRE = r"(?:[وف]?(?:في|خلال|منذ|حتي|بحلول|مطلع|اواخر|اوائل|منتصف|نهايه|بدايه|اواسط|شهر|قبل|بعد)\s+)"

_EXPLICIT = re.compile(
    rf"(?P<pre>{_PRE})?(?:(?P<day>\d{{1,2}})\s+)?(?:شهر\s+)?(?P<month>{_MONTH_ALT})"
    rf"(?:\s*[/(-]?\s*(?:{_MONTH_ALT})\s*\)?)?"
    rf"(?:\s*,?\s+(?:من\s+)?(?:عام\s+|العام\s+|سنه\s+)?(?P<year>(?:19|20)\d\d))?"
    rf"(?:\s+(?P<rel>{_REL_ALT}))?(?![\w])"
)
_QUARTER = re.compile(
    r"(?<![\w])[وف]?(?:بال|لل|ال|في ال)?ربع\s+(?:المالي\s+)?"
    rf"(?P<ord>الاول|الثاني|الثالث|الرابع|الاخير|{_REL_ALT})(?:\s+(?:من\s+)?(?:العام\s+|عام\s+|سنه\s+)?(?P<year>(?:19|20)\d\d|{_REL_ALT}))?"
    r"(?![\w])"
)
_RELATIVE = re.compile(
    r"(?<![\w])[وف]?(?:بال|لل|ال)(?P<unit>اسبوع|شهر|عام|سنه)\s+"
    rf"(?P<rel>{_REL_ALT})(?![\w])"
)
_WEEKDAY = re.compile(
    r"(?<![\w])(?:[وف]?يوم\s+)?[وف]?ال(?P<wd>اثنين|ثلاثاء|اربعاء|خميس|جمعه|سبت|احد)"
    rf"(?:\s+(?P<rel>{_REL_ALT}))?(?![\w])"
)
_AGO = re.compile(
    r"(?<![\w])[وف]?(?:منذ|قبل)\s+(?:(?P<n>\d+|"
    + "|".join(_NUMBER_WORDS)
    + r")\s+)?(?P<unit>ايام|يوما|يوم|يومين|اسابيع|اسبوعا|اسبوع|اسبوعين|اشهر|شهور|شهرا|شهر|شهرين"
    r"|سنوات|اعوام|عاما|عام|سنه|عامين|سنتين)(?![\w])"
)
_YEAR = re.compile(
    r"(?<![\w])[وف]?(?:في|عام|العام|سنه|خلال|منذ|بحلول|حتي|مطلع|نهايه|اواخر)\s+(?:عام\s+)?"
    r"(?P<year>(?:19|20)\d\d)(?![\w])"
)


# Every pattern above needs a digit or one of these words; a text without any has no date.
TIME_HINT = re.compile(
    r"\d|اسبوع|شهر|عام|سنه|ربع|منذ|قبل|يوم|اثنين|ثلاثاء|اربعاء|خميس|جمعه|سبت|احد|"
    + _MONTH_ALT
)
# What each pattern cannot match without (a month name; ربع; a unit; a weekday; منذ or قبل;
# 19 or 20), found in one automaton pass: the patterns' look-behinds and long alternations
# make the regex engine try nearly every position, so a pattern runs only if its word occurs.
_NEEDS_MONTH, _NEEDS_QUARTER, _NEEDS_UNIT, _NEEDS_WEEKDAY, _NEEDS_AGO, _NEEDS_YEAR = (
    1, 2, 4, 8, 16, 32)
_NEEDED: Any = ahocorasick.Automaton()
for _bit, _words in ((_NEEDS_MONTH, tuple(_MONTHS)), (_NEEDS_QUARTER, ("ربع",)),
                     (_NEEDS_UNIT, ("اسبوع", "شهر", "عام", "سنه")),
                     (_NEEDS_WEEKDAY, tuple(_WEEKDAYS)), (_NEEDS_AGO, ("منذ", "قبل")),
                     (_NEEDS_YEAR, ("19", "20"))):
    for _word in _words:
        _NEEDED.add_word(_word, _NEEDED.get(_word, 0) | _bit)
_NEEDED.make_automaton()


def _needed(key: str) -> int:
    """The bits of the patterns whose needed words occur in ``key``."""
    bits = 0
    for _end, bit in _NEEDED.iter(key):
        bits |= bit
    return bits


@dataclass(frozen=True)
class FoundDate:
    """A resolved date expression: where it is in the key, its value and its last day."""

    start: int
    end: int
    date: EventDate
    last_day: dt.date


def _month_date(year: int, month: int) -> FoundDate:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return FoundDate(0, 0, EventDate(f"{year:04d}-{month:02d}", "month"), last)


def _quarter_date(year: int, q: int) -> FoundDate:
    month = q * 3
    last = date(year, month, calendar.monthrange(year, month)[1])
    return FoundDate(0, 0, EventDate(f"{year:04d}-Q{q}", "quarter"), last)


def _day_date(d: date) -> FoundDate:
    return FoundDate(0, 0, EventDate(d.isoformat(), "day"), d)


def _week_date(d: date) -> FoundDate:
    monday = d - timedelta(days=d.weekday())
    return FoundDate(0, 0, EventDate(monday.isoformat(), "week"), monday + timedelta(days=6))


def _year_date(year: int) -> FoundDate:
    return FoundDate(0, 0, EventDate(f"{year:04d}", "year"), date(year, 12, 31))


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _explicit(m: re.Match[str], pub: date | None, forward: bool) -> FoundDate | None:
    month = _MONTHS[m["month"]]
    if not (m["pre"] or m["day"] or m["year"] or m["rel"]):
        return None  # a bare month name (مارس is also a verb) needs context
    if m["month"] == "اب" and not (m["day"] or m["year"] or (m["pre"] or "").strip()):
        return None
    if m["year"]:
        year = int(m["year"])
    elif pub is None:
        return None
    elif m["rel"] in _PAST:
        year = pub.year if month < pub.month else pub.year - 1
    elif m["rel"] in _NEXT:
        year = pub.year if month > pub.month else pub.year + 1
    elif month <= pub.month:
        year = pub.year
    else:
        year = pub.year if forward else pub.year - 1
    if m["day"]:
        try:
            return _day_date(date(year, month, int(m["day"])))
        except ValueError:
            return None
    return _month_date(year, month)


def _relative_year(word: str | None, pub: date | None) -> int | None:
    if word is None:
        return pub.year if pub else None
    if word.isdigit():
        return int(word)
    if pub is None:
        return None
    return pub.year - 1 if word in _PAST else pub.year + 1 if word in _NEXT else pub.year


def _quarter(m: re.Match[str], pub: date | None, forward: bool) -> FoundDate | None:
    word = m["ord"]
    current = (pub.month - 1) // 3 + 1 if pub else 0
    if word in _ORDINALS:
        q = _ORDINALS[word]
        year = _relative_year(m["year"], pub)
        if year is None:
            return None
        if m["year"] is None and pub is not None and q > current and not forward:
            year -= 1
        return _quarter_date(year, q)
    if pub is None:
        return None
    delta = -1 if word in _PAST else 1 if word in _NEXT else 0
    index = pub.year * 4 + current - 1 + delta
    return _quarter_date(index // 4, index % 4 + 1)


def _relative(m: re.Match[str], pub: date | None) -> FoundDate | None:
    if pub is None:
        return None
    delta = -1 if m["rel"] in _PAST else 1 if m["rel"] in _NEXT else 0
    unit = m["unit"]
    if unit == "اسبوع":
        return _week_date(pub + timedelta(weeks=delta))
    if unit == "شهر":
        return _month_date(*_shift_month(pub.year, pub.month, delta))
    return _year_date(pub.year + delta)


def _weekday(m: re.Match[str], pub: date | None) -> FoundDate | None:
    if pub is None:
        return None
    wd = _WEEKDAYS[m["wd"]]
    back = (pub.weekday() - wd) % 7
    if m["rel"] in _NEXT:
        return _day_date(pub + timedelta(days=(wd - pub.weekday()) % 7 or 7))
    if m["rel"] in _PAST and back == 0:
        back = 7
    return _day_date(pub - timedelta(days=back))


def _ago(m: re.Match[str], pub: date | None) -> FoundDate | None:
    if pub is None:
        return None
    unit = m["unit"]
    raw = m["n"]
    n = (int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]) if raw else 1
    if unit in {"يومين", "اسبوعين", "شهرين", "عامين", "سنتين"}:
        n = 2
    if unit.startswith("ي"):
        return _day_date(pub - timedelta(days=n))
    if unit.startswith("اسبوع") or unit == "اسابيع":
        return _week_date(pub - timedelta(weeks=n))
    if unit in {"اشهر", "شهور", "شهرا", "شهر", "شهرين"}:
        return _month_date(*_shift_month(pub.year, pub.month, -n))
    return _year_date(pub.year - n)


def find_dates(key: str, published: datetime | None, forward: bool = False) -> list[FoundDate]:
    """Every date expression in ``key``, resolved, in text order (see module docstring)."""
    pub = published.date() if published is not None else None
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def keep(m: re.Match[str], result: FoundDate | None) -> None:
        if result is None or any(s < m.end() and m.start() < e for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(FoundDate(m.start(), m.end(), result.date, result.last_day))

    # each pattern runs only if the word (or digits) it cannot match without occurs
    needed = _needed(key)
    if needed & _NEEDS_MONTH:
        for m in _EXPLICIT.finditer(key):
            keep(m, _explicit(m, pub, forward))
    if needed & _NEEDS_QUARTER:
        for m in _QUARTER.finditer(key):
            keep(m, _quarter(m, pub, forward))
    if needed & _NEEDS_UNIT:
        for m in _RELATIVE.finditer(key):
            keep(m, _relative(m, pub))
    if needed & _NEEDS_WEEKDAY:
        for m in _WEEKDAY.finditer(key):
            keep(m, _weekday(m, pub))
    if needed & _NEEDS_AGO:
        for m in _AGO.finditer(key):
            keep(m, _ago(m, pub))
    if needed & _NEEDS_YEAR:
        for m in _YEAR.finditer(key):
            keep(m, _year_date(int(m["year"])))
    found.sort(key=lambda f: f.start)
    return found
