"""Publication dates as Arabic feeds write them, to aware UTC.

feedparser reads RFC 822 (RFC 5322 §3.3) and ISO 8601 dates but no Arabic month names, no
Arabic-Indic digits, no "GMT+3", and it reads "AST" as Atlantic time (−4) where Arabic sites
mean Arabia Standard Time (+3). ``parse_date`` tries, in this order:

1. ISO 8601 / W3C-DTF (``2025-08-24T10:30:00+03:00``, ``2025-08-24 10:30``);
2. RFC 822 / RFC 5322 (``Sun, 24 Aug 2025 10:30:00 +0300``), with our zone table so "AST"
   is +3;
3. a token reader for everything else: Arabic-Indic and Persian digits become ASCII; day
   names (Arabic and English) are ignored; month names come from three Arabic sets
   (يناير…, كانون الثاني…, جانفي…, plus the Moroccan يوليوز/غشت/شتنبر/نونبر/دجنبر) or English;
   ص/صباحا and م/مساء are AM and PM (but م right after a year, "2025م", is the AD marker);
   the zone is ``GMT+3``, ``UTC+03:00``, ``+0300`` or a name from the table; French month
   names (``déc.``, ``févr.``, ``août``) are read too, and a leading weekday (``mar.,`` is
   mardi, not March) is skipped.

The zone at the end of a date is read once, before steps 2 and 3: ``+0300``, ``+03:00``,
``+03``, an RFC 5322 comment (``+0300 (AST)``: the comment is ignored; a comment alone,
``(AST)``, is the zone), an abbreviation from our table, or an IANA name (``Asia/Riyadh``).
An abbreviation we do not know (MET, WAT, IST, PT…) or an offset out of range (``+1500``,
``-99:99``, ``UTC+24``) gives None — never the feed's local time, which would be a wrong
instant stored as if it were right.

A date without a zone is read in ``default_tz`` (an IANA name such as ``Asia/Riyadh``, or
UTC when None). Anything else returns None: a wrong date is worse than none.
``parse_date`` never raises, whatever the string (overflowing years, absurd offsets).

``install_date_handlers`` registers ``parse_date`` with feedparser; the caller decides when.
"""

from __future__ import annotations

import calendar
import functools
import re
import threading
import time
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DIGITS = str.maketrans(
    {**{chr(0x0660 + d): str(d) for d in range(10)}, **{chr(0x06F0 + d): str(d) for d in range(10)}}
)
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ـ": None})
_PUNCT = str.maketrans({"،": " ", ",": " ", "؛": " "})

# Keys are written with plain alef and final ه (the form after _ALEF).
_ARABIC_MONTHS: dict[str, int] = {
    # Egypt and the Gulf
    "يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "يونيو": 6, "يونيه": 6,
    "يوليو": 7, "يوليه": 7, "اغسطس": 8, "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
    # The Levant and Iraq (the two-word names are handled in _LEVANT_PAIRS)
    "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7, "اب": 8, "ايلول": 9,
    # The Maghreb
    "جانفي": 1, "فيفري": 2, "افريل": 4, "ماي": 5, "جوان": 6, "جويليه": 7, "اوت": 8,
    "يوليوز": 7, "غشت": 8, "شتنبر": 9, "نونبر": 11, "دجنبر": 12,
}  # fmt: skip
_LEVANT_PAIRS = re.compile(r"(كانون|تشرين)\s*(?:ال)?(اول|ثاني)")
_LEVANT_MONTHS = {("كانون", "ثاني"): 1, ("كانون", "اول"): 12, ("تشرين", "اول"): 10,
                  ("تشرين", "ثاني"): 11}  # fmt: skip
_ENGLISH_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip
_FRENCH_MONTHS = {
    "janv": 1, "janvier": 1, "févr": 2, "fevr": 2, "février": 2, "fevrier": 2, "mars": 3,
    "avr": 4, "avril": 4, "mai": 5, "juin": 6, "juil": 7, "juillet": 7, "août": 8, "aout": 8,
    "sept": 9, "septembre": 9, "oct": 10, "octobre": 10, "nov": 11, "novembre": 11,
    "déc": 12, "décembre": 12, "decembre": 12,
}  # fmt: skip
# Abbreviated weekdays that are also month names elsewhere ("mar." is mardi in French).
_WEEKDAY_LIKE_MONTHS = frozenset({"mar"})
_LEADING_WEEKDAY = re.compile(r"^\s*[^\W\d]+\.?\s*,\s*")
_RFC850_DATE = re.compile(r"\b(\d{1,2})-([A-Za-z]{3})-(\d{2,4})\b")
_COMMENT = re.compile(r"\(([^()]*)\)")
_OFFSET_TOKEN = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?")
_IANA = re.compile(r"[A-Za-z]+(?:/[A-Za-z0-9_+-]+)+")
_LATIN_WORD = re.compile(r"[A-Za-z]{1,5}")
# Letters of any script but Arabic: a token with them that we do not know means the date is
# in a language we do not read; guessing around it gives wrong instants.
_FOREIGN_WORD = re.compile(r"[^\W\d_\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_FILLER = frozenset({"at", "on", "of", "the", "de", "du", "le", "à", "h", "hrs", "um", "el",
                     "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
                     "lun", "mer", "jeu", "ven", "sam", "dim", "t"})
_DAY_NAMES = frozenset(
    {"الاحد", "الاثنين", "الثلاثاء", "الاربعاء", "الخميس", "الجمعه", "السبت", "يوم",
     "sun", "sunday", "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday",
     "thu", "thur", "thurs", "thursday", "fri", "friday", "sat", "saturday"}
)  # fmt: skip
_AM = frozenset({"ص", "صباحا", "صباحاً", "صباحًا", "am", "a.m"})
_PM = frozenset({"م", "مساء", "مساءا", "مساءً", "ظهرا", "ظهراً", "عصرا", "pm", "p.m"})
# Zone abbreviations as Arabic sites use them. AST is Arabia Standard Time, not Atlantic.
_ZONES: dict[str, int] = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "غرينتش": 0, "جرينتش": 0, "غرينيتش": 0,
    "ast": 180, "arabia": 180, "ksa": 180, "msk": 180, "eat": 180, "مكه": 180,
    "gst": 240, "eet": 120, "eest": 180, "cet": 60, "cest": 120, "bst": 60,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420,
}  # fmt: skip
_GMT_OFFSET = re.compile(r"(?:gmt|utc|غرينتش|جرينتش)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.I)
_NUMERIC_OFFSET = re.compile(r"(?<![\d:])([+-])(\d{2}):?(\d{2})\b")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?")
_DMY = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_YMD = re.compile(r"\b(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})\b")
_AM_PM = re.compile(r"\b[ap]\.?m\b\.?", re.I)
_TOKEN = re.compile(r"[^\s]+")
_YEAR_AD = re.compile(r"\b(\d{4})\s?م(?=\s|$)")  # "2025م": the AD marker, not PM
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")

_install_lock = threading.Lock()


def resolve_timezone(name: str | None) -> tzinfo:
    """The tzinfo for a feed's configured zone: an IANA name, ``UTC`` or ``+03:00``.

    Raises ValueError for a name that is neither, so config checks can call it at start-up.
    """
    if not name:
        return UTC
    offset = re.fullmatch(r"(?:utc|gmt)?\s*([+-])(\d{1,2}):?(\d{2})?", name.strip(), re.I)
    if offset:
        return _fixed(offset.group(1), offset.group(2), offset.group(3))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc


def parse_date(value: str, default_tz: str | None) -> datetime | None:
    """An aware UTC datetime for a feed date string, or None when it cannot be read safely."""
    return _parse_date(value, default_tz)[0]


def read_date(value: str, default_tz: str | None) -> tuple[datetime | None, bool]:
    """``(instant, refused)``: ``refused`` is True when the string *is* a date we will not
    trust (an unknown zone, an offset out of range, an overflowing or out-of-range year), as
    opposed to a string none of our readers recognises (another language's date, which the
    caller may hand to feedparser's own parsers)."""
    return _parse_date(value, default_tz)


@functools.lru_cache(maxsize=4096)  # feeds repeat their dates on every fetch
def _parse_date(value: str, default_tz: str | None) -> tuple[datetime | None, bool]:
    tz = resolve_timezone(default_tz)
    text = value.translate(_DIGITS).strip()
    if not text or len(text) > 200:
        return None, bool(text)
    try:
        result = _read_iso(text, tz)
        if result is None:
            text, zone, readable = _trailing_zone(text)
            if not readable:
                return None, True  # a zone was stated but cannot be read: no date beats a wrong one
            result = (_read_iso(text, zone) if zone and _ISO.match(text) else None) or \
                _read_rfc822(text, zone, tz) or _read_tokens(text, zone or tz)
    except (ValueError, OverflowError, ArithmeticError):
        return None, True
    if result is None:
        return None, False
    return (result, False) if 1970 <= result.year <= 2100 else (None, True)


def read_foreign_date(value: str) -> datetime | None:
    """A date in a language feedparser reads and we do not (Greek, Hungarian, Korean, the
    Perforce form), through *those* feedparser handlers only: its generic ISO 8601 handler
    reads "2004-július-13" as 2004-12-01, so its full chain is not asked."""
    from feedparser.datetimes import greek, hungarian, korean, perforce

    for handler in (greek._parse_date_greek, hungarian._parse_date_hungarian,
                    korean._parse_date_nate, korean._parse_date_onblog,
                    perforce._parse_date_perforce):
        try:
            parsed = handler(value)
        except (ValueError, OverflowError, KeyError, IndexError, AttributeError, TypeError):
            continue
        if parsed:
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                return None
            return when if 1970 <= when.year <= 2100 else None
    return None


def _trailing_zone(text: str) -> tuple[str, tzinfo | None, bool]:
    """The text without its trailing zone, the zone (None: none stated) and whether a stated
    zone could be read (see the module docstring)."""
    comment = ""
    if match := _COMMENT.search(text):
        comment = match.group(1).strip()
        text = _COMMENT.sub(" ", text).strip()
    head, _, last = text.rpartition(" ")
    zone, kind = _zone_token(last)
    if kind == "zone" and head:
        return head.strip(), zone, True
    if kind == "bad":
        return text, None, False
    if comment:
        zone, kind = _zone_token(comment)
        if kind == "zone":
            return text, zone, True
    return text, None, True


def _zone_token(token: str) -> tuple[tzinfo | None, str]:
    """(zone, "zone") for a readable zone token, (None, "bad") for a stated zone we cannot
    read, (None, "none") for a token that is not a zone at all."""
    if match := _OFFSET_TOKEN.fullmatch(token):
        sign, hours, minutes = match.groups()
        if len(hours) == 1 and minutes is None and sign == "-":
            return None, "none"  # "-5" is more likely a date piece than a zone
        if int(minutes or 0) >= 60 or int(hours) > 14:
            return None, "bad"
        return _fixed(sign, hours, minutes), "zone"
    if _IANA.fullmatch(token):
        try:
            return ZoneInfo(token), "zone"
        except (ZoneInfoNotFoundError, ValueError):
            return None, "bad"
    if not _LATIN_WORD.fullmatch(token):
        return None, "none"
    word = token.lower()
    if word in _ZONES:
        return timezone(timedelta(minutes=_ZONES[word])), "zone"
    if (word in _ENGLISH_MONTHS or word in _FRENCH_MONTHS or word in _DAY_NAMES
            or word in _AM or word in _PM or word.rstrip(".") in ("am", "pm")):
        return None, "none"
    return None, "bad"  # MET, WAT, IST, PT…: a zone we do not know


def install_date_handlers() -> None:
    """Register ``parse_date`` with feedparser, ahead of its own handlers; idempotent."""
    import feedparser.datetimes

    with _install_lock:
        if _feedparser_handler not in feedparser.datetimes._date_handlers:
            feedparser.registerDateHandler(_feedparser_handler)


def _feedparser_handler(value: str) -> time.struct_time | None:
    parsed = parse_date(value, None)
    return parsed.utctimetuple() if parsed else None


def _fixed(sign: str, hours: str, minutes: str | None) -> tzinfo:
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > timedelta(hours=14):
        raise ValueError("offset out of range")
    return timezone(-delta if sign == "-" else delta)


def _read_iso(text: str, tz: tzinfo) -> datetime | None:
    if not _ISO.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    offset = parsed.utcoffset()
    if offset is not None and abs(offset) > timedelta(hours=14):
        raise ValueError("offset out of range")  # no zone on Earth: the date is wrong
    return parsed.astimezone(UTC)


def _read_rfc822(text: str, zone: tzinfo | None, tz: tzinfo) -> datetime | None:
    """An RFC 5322 date whose zone ``_trailing_zone`` has already taken off."""
    if not text.isascii() or _GMT_OFFSET.search(text) or _AM_PM.search(text):
        return None  # email.utils would drop the "+3" of "GMT+3" and ignore AM/PM
    parts = _RFC850_DATE.sub(r"\1 \2 \3", text).split()  # "10-Jan-17" (RFC 850)
    if not any(p.lower().strip(",.") in _ENGLISH_MONTHS for p in parts):
        return None
    if re.fullmatch(r"[+-]\d+|[A-Za-z]+", parts[-1]):
        return None  # a zone left over (an unpaired one): let the token reader decide
    fields = parsedate_tz(" ".join(parts))
    if fields is None:
        return None
    try:
        naive = datetime(*fields[:6])
    except ValueError:
        return None
    return naive.replace(tzinfo=zone or tz).astimezone(UTC)


def _read_tokens(text: str, tz: tzinfo) -> datetime | None:
    """The fallback reader: find a time, a zone, a month, and the day and year nearest it.

    "Nearest the month" matters for pages that print the Hijri date first
    ("1 ربيع الأول 1447 هـ - 24 أغسطس 2025 م"): the Hijri day and year are skipped.
    """
    text = _LEADING_WEEKDAY.sub(" ", text)  # "mar., 01 déc. 2020": mardi, not March
    text = _YEAR_AD.sub(r"\1", text.translate(_ALEF).translate(_PUNCT).lower())
    zone: tzinfo | None = None
    if match := _GMT_OFFSET.search(text):
        zone = _fixed(match.group(1), match.group(2), match.group(3))
        text = _cut(text, match)
    if match := _LEVANT_PAIRS.search(text):  # two words: keep its place as one token
        number = _LEVANT_MONTHS[(match.group(1), match.group(2))]
        text = f"{text[: match.start()]} #{number} {text[match.end() :]}"
    hour = minute = second = 0
    if match := _TIME.search(text):
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        text = _cut(text, match)
    if zone is None and (match := _NUMERIC_OFFSET.search(text)):
        zone = _fixed(match.group(1), match.group(2), match.group(3))
        text = _cut(text, match)
    day = month = year = None
    if match := _YMD.search(text):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        text = _cut(text, match)
    elif match := _DMY.search(text):
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        text = _cut(text, match)
    pm: bool | None = None
    months: list[tuple[int, int, str]] = []
    days: list[tuple[int, int]] = []
    years: list[tuple[int, int]] = []
    tokens = [t.strip(".-/") for t in _TOKEN.findall(text)]
    for at, token in enumerate(tokens):
        if token in _AM:
            pm = False
        elif token in _PM:
            pm = True
        elif token in _ZONES and zone is None:
            zone = timezone(timedelta(minutes=_ZONES[token]))
        elif month is None and (found := _month(token)):
            months.append((at, found, token))
        elif token.isdigit() and len(token) == 4 and 1970 <= int(token) <= 2100:
            years.append((at, int(token)))
        elif token.isdigit() and len(token) <= 2:
            days.append((at, int(token)))
        elif _FOREIGN_WORD.search(token) and token not in _FILLER and token not in _DAY_NAMES \
                and token not in _ZONES and _month(token) is None:
            return None  # a word of a language we do not read (오후 is PM): leave it alone
    month_at = 0
    if months:
        if len(months) > 1:  # "mar. 01 déc.": the weekday-like one is not the month
            months = [m for m in months if m[2] not in _WEEKDAY_LIKE_MONTHS] or months[:1]
        month_at, month = months[0][0], months[0][1]
    year = year or _nearest(years, month_at)
    day = day or _nearest(days, month_at)
    if day is None or month is None or year is None:
        return None
    if pm is not None and 1 <= hour <= 12:
        hour = hour % 12 + (12 if pm else 0)
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone or tz)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _cut(text: str, match: re.Match[str]) -> str:
    return f"{text[: match.start()]} {text[match.end() :]}"


def _month(token: str) -> int | None:
    if token.startswith("#") and token[1:].isdigit():
        return int(token[1:])
    return _ARABIC_MONTHS.get(token) or _ENGLISH_MONTHS.get(token) or _FRENCH_MONTHS.get(token)


def _nearest(candidates: list[tuple[int, int]], at: int) -> int | None:
    """The value whose position is closest to ``at``, the earlier one on a tie."""
    if not candidates:
        return None
    return min(candidates, key=lambda c: (abs(c[0] - at), c[0]))[1]
