"""Arabic text in two layers: a display text for people and a match key for machines.

``display_text`` strips HTML, unescapes entities, applies NFC and maps the Arabic
presentation forms (U+FB50–U+FDFF, U+FE70–U+FEFF) to their letters — not full NFKC, which
changes content (10² → 102, ½ → 1⁄2, ™ → TM) —, deletes C0/C1 control characters (NUL, ESC,
BEL, U+0080–U+009F…) and invisible controls (zero-width and bidi marks, soft hyphen, BOM) and
collapses white space. It is what we store and show.

``match_key`` starts from the display text and, in this order: applies NFKC (only here);
casefolds Latin; unifies alef forms, alef maqsura, taa marbuta and hamza seats; removes
diacritics and tatweel; maps
Arabic-Indic and Persian digits to ASCII and Arabic punctuation to ASCII; puts a token boundary
wherever Arabic letters meet Latin letters or digits; and collapses white space. The match key
is never shown to people. Both functions are pure and idempotent.
"""

from __future__ import annotations

import html
import re
import unicodedata

# U+200B–U+200F, U+061C, U+202A–U+202E, U+2066–U+2069, U+FEFF, U+00AD
_INVISIBLE = dict.fromkeys(
    [*range(0x200B, 0x2010), 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF, 0xAD]
)
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.S | re.I)
_BLOCK_TAG = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|p|div|li|h[1-6])\b[^>]*>", re.I)
# C0 controls other than white space, DEL and C1: never shown, never sent to a terminal.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Arabic presentation forms A and B: glyph variants that NFKC maps to the letters they show.
_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")
_SPACE = re.compile(r"\s+")

_KEY_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "ء",
        "ئ": "ء",
        "ـ": None,  # tatweel
        "،": ",",
        "؛": ";",
        "؟": "?",
        "٪": "%",
        "٫": ".",
        "٬": ",",
        "«": '"',
        "»": '"',
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    }
)
# Arabic diacritics (harakat, tanwin, shadda, sukun, dagger alef, Quranic marks).
_DIACRITICS = re.compile(
    "[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]"
)
_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff"
_BOUNDARY = re.compile(
    rf"(?<=[{_ARABIC}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[{_ARABIC}])"
)


def display_text(raw: str) -> str:
    """Clean text for people: no tags, no entities, no invisible controls, single spaces."""
    text = _BLOCK_TAG.sub(" ", raw)
    text = _TAG.sub(" ", text)
    text = _CONTROL.sub("", html.unescape(text))
    text = unicodedata.normalize("NFC", text)
    text = _PRESENTATION.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    text = text.translate(_INVISIBLE)
    return _SPACE.sub(" ", text).strip()


# Fast equivalents used by match_key (same results; str.translate with a dict table and
# zero-width look-around substitutions dominated the time of the event engine).
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")
# No replacement contains a character that is itself replaced, so sequential replaces are
# the same as one simultaneous translate.
_KEY_PAIRS = tuple((chr(code), value or "") for code, value in _KEY_MAP.items())
# Token boundaries between Arabic letters and Latin letters or digits: runs of [A-Za-z0-9] are
# rare in Arabic text, so they are found first (a one-character class searches fastest) and
# only their two ends are looked at.
_ALNUM = re.compile(r"[A-Za-z0-9]")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")
# white space other than the plain space (str.split and \s agree on what white space is)
_OTHER_SPACE = re.compile(r"[^\S ]")


def _is_arabic(char: str) -> bool:
    return ("\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f"
            or "\u08a0" <= char <= "\u08ff")


def _split_scripts(key: str) -> str:
    """A space wherever an Arabic letter meets a Latin letter or a digit."""
    found = _ALNUM.search(key)
    if found is None:
        return key
    parts: list[str] = []
    pos = 0
    size = len(key)
    while found is not None:
        start = found.start()
        run = _ALNUM_RUN.match(key, start)
        end = run.end() if run is not None else start + 1
        if start and _is_arabic(key[start - 1]):
            parts += (key[pos:start], " ")
            pos = start
        if end < size and _is_arabic(key[end]):
            parts += (key[pos:end], " ")
            pos = end
        found = _ALNUM.search(key, end)
    if not parts:
        return key
    parts.append(key[pos:])
    return "".join(parts)


def _collapse_spaces(key: str) -> str:
    """``" ".join(key.split())``, without splitting when the only white space is " "."""
    if _OTHER_SPACE.search(key) is not None:
        return " ".join(key.split())
    while "  " in key:
        key = key.replace("  ", " ")
    return key.strip(" ")


# Invisible controls, diacritics and tatweel are deleted in one pass, after casefolding: none
# of them changes under casefolding and no casefolded character contains one, so this is the
# same as deleting the controls first, then casefolding, then deleting the rest.
_DELETED = re.compile(
    "[\u200b-\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff\u00ad"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]"
)
_KEY_SWAPS = tuple((char, value) for char, value in _KEY_PAIRS if value)


def match_key(text: str) -> str:
    """The matching form of a display text (see the module docstring for the steps)."""
    key = _DELETED.sub("", unicodedata.normalize("NFKC", text).casefold())
    for char, replacement in _KEY_SWAPS:
        if char in key:
            key = key.replace(char, replacement)
    return _collapse_spaces(_split_scripts(key))
