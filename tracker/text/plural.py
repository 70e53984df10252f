"""Counted phrases in grammatical Arabic and English, by CLDR plural rules (Babel). Pure.

Arabic agrees its noun with the number in six CLDR categories: وسيلة إعلام واحدة (one),
وسيلتا إعلام (two), 3 وسائل إعلام (few: 3–10, 103–110 …), 11 وسيلة إعلام (many: 11–99 …),
100 وسيلة إعلام (other). The category comes from ``babel.Locale.plural_form``, not from
hand-made conditions.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

_REPORTED_BY = {
    "ar": {"zero": "لم تورده أي وسيلة إعلام", "one": "أوردته وسيلة إعلام واحدة",
           "two": "أوردته وسيلتا إعلام", "few": "أوردته {n} وسائل إعلام",
           "many": "أوردته {n} وسيلة إعلام", "other": "أوردته {n} وسيلة إعلام"},
    "en": {"one": "reported by 1 outlet", "other": "reported by {n} outlets"},
}


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def reported_by(n: int, lang: str = "ar") -> str:
    """"reported by N outlets" in ``lang`` (ar or en), the noun agreeing with ``n``."""
    forms = _REPORTED_BY["en" if lang == "en" else "ar"]
    category = _locale("en" if lang == "en" else "ar").plural_form(n)
    return forms.get(category, forms["other"]).format(n=n)
