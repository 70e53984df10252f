"""Feed bytes to text, when the declared encoding cannot be trusted.

Arabic sites send windows-1256 bytes declared as UTF-8 and UTF-8 bytes declared as
windows-1256; a parser that believes the declaration produces mojibake. We decide ourselves,
in this order, and take the first that holds:

1. a byte-order mark (UTF-8, UTF-16, UTF-32) — it cannot be there by accident;
2. UTF-32 or UTF-16 without a BOM, from the NUL bytes around the first character (the
   patterns of XML 1.0 Appendix F: ``00 00 00 3C`` is UTF-32BE, ``3C 00`` UTF-16LE…);
3. strict UTF-8 — Arabic text in another 8-bit encoding almost never decodes as valid UTF-8,
   so success is strong evidence whatever the declaration says. A double-encoded body
   (UTF-8 read as windows-1252 and encoded again, including the five bytes windows-1252
   leaves undefined, which such tools pass through as U+0081… — ف and the vowel marks use
   them) is repaired here;
4. UTF-8 with the bad bytes replaced (U+FFFD) when the body is overwhelmingly UTF-8: its
   only bad sequence is a character cut off at the very end (a truncated body), or there are
   at least ``_MIN_VALID`` valid multi-byte characters and ``_VALID_PER_BAD`` of them per
   bad sequence. windows-1256 decodes *any* byte sequence, so without this step one stray
   byte would turn a whole UTF-8 Arabic feed into mojibake (ط¥ظ†ظپظٹط¯ظٹط§). A warning
   says how many sequences were replaced;
5. the charset of the HTTP ``Content-Type`` (RFC 9110 §8.3), then the one in the XML
   declaration — each only if it decodes strictly and does not look like mojibake (Latin-1
   letters where cp1256 would give Arabic);
6. a charset detector (charset-normalizer) on undeclared bytes: when it finds Arabic (or has
   no answer) we use windows-1256, the usual encoding of legacy Arabic sites; when it finds
   Big5, GB18030, Shift_JIS, KOI8-R, windows-1255… we use what it found (a Western
   single-byte guess is read as windows-1252, the superset of Latin-1);
7. UTF-8 with replacement characters, so that one bad byte never loses a whole feed.

The text we return has an XML declaration that says UTF-8 (or none), so that the parser,
given ``text.encode("utf-8")``, cannot decode it a second time.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_XML_DECL = re.compile(r"""\A(\s*<\?xml\b[^>]*?)\s+encoding\s*=\s*(["'])([^"']*)\2""", re.I)
_XML_DECL_BYTES = re.compile(rb"""\A\s*<\?xml\b[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_LATIN1_LETTER = re.compile("[\u00c0-\u00ff]")
# UTF-8 Arabic (lead bytes D8–DB) read as cp1252/latin-1: "Ø" or "Ù" then a continuation char.
_DOUBLE_ENCODED = re.compile(
    "[\u00d8-\u00db]"
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013-\u203a\u20ac\u2122]"
)


_MIN_VALID = 20
_VALID_PER_BAD = 50
_DETECT_BYTES = 200_000  # the detector reads a sample, not a 5 MB body
_ARABIC_CODECS = frozenset({"cp1256", "iso8859_6", "cp864", "cp720", "cp1006", "mac_arabic"})
_WESTERN_CODECS = frozenset({"cp1250", "cp1252", "cp1257", "latin_1", "iso8859_15", "cp775",
                             "iso8859_2", "iso8859_10", "iso8859_13", "iso8859_4", "mac_roman",
                             "mac_latin2", "cp850", "cp437"})


def decode_feed_bytes(body: bytes, content_type: str | None) -> str:
    """The text of a feed body, decoded by the rules in the module docstring."""
    return decode_feed(body, content_type)[0]


def decode_feed(body: bytes, content_type: str | None) -> tuple[str, str | None]:
    """The text of a feed body and a warning when decoding had to replace bytes."""
    text, warning = _decode(body, content_type)
    return _declare_utf8(text.lstrip("\ufeff")), warning


def _decode(body: bytes, content_type: str | None) -> tuple[str, str | None]:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return _lenient(body[len(bom) :], encoding)
    if (wide := _wide_encoding(body)) is not None:
        return _lenient(body, wide)
    try:
        return _repair_double_encoding(body.decode("utf-8")), None
    except UnicodeDecodeError:
        pass
    if (mostly := _mostly_utf8(body)) is not None:
        return mostly
    for declared in (http_charset(content_type), xml_charset(body)):
        text = _strict(body, declared)
        if text is not None and not _looks_like_mojibake(text, body):
            return text, None
    text = _strict(body, _detected(body))
    if text is not None:
        return text, None
    return _lenient(body, "utf-8")


def _lenient(body: bytes, encoding: str) -> tuple[str, str | None]:
    try:
        return body.decode(encoding), None
    except UnicodeDecodeError:
        text = body.decode(encoding, errors="replace")
        bad = text.count("\ufffd")
        return text, f"{bad} invalid {encoding.upper()} byte sequences replaced"


def _wide_encoding(body: bytes) -> str | None:
    """UTF-32/UTF-16 without a BOM, from where the NUL bytes sit around the first character."""
    head = body[:4]
    if len(head) < 4 or 0 not in head:
        return None
    zero = [b == 0 for b in head]
    if zero == [True, True, True, False]:
        return "utf-32-be"
    if zero == [False, True, True, True]:
        return "utf-32-le"
    if zero[0] and not zero[1] and zero[2] and not zero[3]:
        return "utf-16-be"
    if not zero[0] and zero[1] and not zero[2] and zero[3]:
        return "utf-16-le"
    return None


def _mostly_utf8(body: bytes) -> tuple[str, str | None] | None:
    """UTF-8 with replacements, when the body is overwhelmingly UTF-8 (rule 4)."""
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - body.count(b"\xef\xbf\xbd")
    try:
        body[:-4].decode("utf-8")
        cut_at_end = True  # the only damage is within the last few bytes
    except UnicodeDecodeError:
        cut_at_end = False
    valid = sum(1 for char in text if char > "\x7f") - bad
    if not (cut_at_end or (valid >= _MIN_VALID and bad * _VALID_PER_BAD <= valid)):
        return None
    where = " (a character cut off at the end)" if cut_at_end else ""
    return text, f"{bad} invalid UTF-8 byte sequences replaced{where}"


def _detected(body: bytes) -> str:
    """The encoding of undeclared, non-UTF-8 bytes (rule 6): windows-1256 unless the
    detector is sure of something that is not Arabic."""
    results = from_bytes(body[:_DETECT_BYTES])
    best = results.best()
    if best is None:
        return "cp1256"
    encoding = best.encoding
    if encoding in _ARABIC_CODECS or best.language in ("Arabic", "Farsi"):
        return "cp1256"
    if encoding in _WESTERN_CODECS:
        return "cp1252" if _strict(body, "cp1252") is not None else "latin-1"
    return encoding


def http_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, if any."""
    if not content_type:
        return None
    match = _HTTP_CHARSET.search(content_type)
    return match.group(1) if match else None


def xml_charset(body: bytes) -> str | None:
    """The encoding named in the XML declaration at the start of ``body``, if any."""
    match = _XML_DECL_BYTES.match(body[:200])
    return match.group(1).decode("ascii") if match else None


def _strict(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        codecs.lookup(encoding)
        return body.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def _looks_like_mojibake(text: str, body: bytes) -> bool:
    """True when ``text`` has Latin-1 letters and no Arabic, but cp1256 would give Arabic."""
    latin = len(_LATIN1_LETTER.findall(text))
    if latin < 3 or len(_ARABIC_LETTER.findall(text)) > latin:
        return False
    arabic = body.decode("cp1256", errors="replace")
    return len(_ARABIC_LETTER.findall(arabic)) >= latin


def _repair_double_encoding(text: str) -> str:
    """Undo UTF-8 that was read as windows-1252 (or Latin-1) and encoded as UTF-8 again."""
    if len(_DOUBLE_ENCODED.findall(text)) < 3 or _ARABIC_LETTER.search(text):
        return text
    raw = bytearray()
    for char in text:
        try:
            raw += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 0xFF:
                return text  # a character no single-byte reading produces: not this damage
            raw.append(ord(char))  # the five bytes cp1252 leaves undefined, passed through
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text


def _declare_utf8(text: str) -> str:
    """Rewrite the XML declaration's encoding to UTF-8 (leave the rest of it alone)."""
    return _XML_DECL.sub(r'\1 encoding="utf-8"', text, count=1)
