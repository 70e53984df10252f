"""Figures an event sentence states, with their unit. Pure.

Two reports that state different figures of the same unit report different events (a target
of 500,000 chips is not one of 80,000; a 15 % revenue share is not 25 %; 12 companies added
to a list are not 40). A figure is a number (Western or Arabic-Indic digits, thousands
separators, a decimal point, a multiplier word: ألف، مليون، مليار; "k", "million",
"billion") followed by its unit, read on the match key:

- ``pct``: % (also ٪), بالمئة، في المئة;
- ``usd``: دولار, $ (before or after the number), "dollars";
- ``companies``: شركة، شركات، كيان، كيانات، مؤسسة، "companies", "entities";
- ``units``: شريحة، رقاقة، رقائق، شرائح، وحدة، معالج، "chips", "units".

A figure is written ``unit:value`` with the value a plain number (``units:500000``).
"""

from __future__ import annotations

import re

_MULTIPLIER = {
    "الف": 1e3, "الاف": 1e3, "الفا": 1e3, "k": 1e3, "thousand": 1e3,
    "مليون": 1e6, "ملايين": 1e6, "million": 1e6, "m": 1e6,
    "مليار": 1e9, "مليارات": 1e9, "billion": 1e9, "bn": 1e9,
}
_UNIT_WORDS = {
    "pct": ("%", "بالمءه", "بالماءه", "في المءه", "في الماءه", "percent"),
    "usd": ("دولار", "دولارا", "دولارات", "dollars", "usd"),
    "companies": ("شركه", "شركات", "كيان", "كيانا", "كيانات", "مءسسه", "مءسسات", "companies",
                  "entities", "firms"),
    "units": ("شريحه", "رقاقه", "رقاءق", "شراءح", "وحده", "وحدات", "معالج", "معالجات", "chips",
              "units"),
}
_UNIT_OF = {w: unit for unit, words in _UNIT_WORDS.items() for w in words}
_NUMBER = r"(\d{1,3}(?:[,،]\d{3})+|\d+(?:[.٫]\d+)?)"
_MULT = "|".join(sorted((re.escape(m) for m in _MULTIPLIER), key=len, reverse=True))
_UNITS = "|".join(sorted((re.escape(w) for w in _UNIT_OF), key=len, reverse=True))
_FIGURE = re.compile(
    rf"(?<![\w.,])(\$\s?)?{_NUMBER}\s?(?:({_MULT})(?![\w]))?\s?"
    rf"(?:(?:من\s)?(?:ال)?({_UNITS})(?![\w]))?")


def _value(number: str, multiplier: str | None) -> float:
    value = float(number.replace(",", "").replace("،", "").replace("٫", "."))
    return value * _MULTIPLIER.get(multiplier or "", 1.0)


def _plain(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


def figures(key: str) -> tuple[str, ...]:
    """The figures (``unit:value``) a match-key sentence states, each once, in order."""
    out: dict[str, None] = {}
    for m in _FIGURE.finditer(key):
        dollar, number, multiplier, unit_word = m.groups()
        unit = "usd" if dollar else _UNIT_OF.get(unit_word or "")
        if unit is None:
            continue
        value = _value(number, multiplier)
        out[f"{unit}:{_plain(value)}"] = None
    return tuple(out)


def conflicting(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, str] | None:
    """A unit both state with no value in common, as (a's figure, b's figure), else None."""
    units_a: dict[str, set[str]] = {}
    for f in a:
        unit, _, value = f.partition(":")
        units_a.setdefault(unit, set()).add(value)
    units_b: dict[str, set[str]] = {}
    for f in b:
        unit, _, value = f.partition(":")
        units_b.setdefault(unit, set()).add(value)
    for unit in sorted(units_a.keys() & units_b.keys()):
        if not units_a[unit] & units_b[unit]:
            return (f"{unit}:{min(units_a[unit])}", f"{unit}:{min(units_b[unit])}")
    return None
