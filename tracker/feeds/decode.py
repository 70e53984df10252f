"""Feed bytes to text, when the declared encoding cannot be trusted.

Arabic sites send windows-1256 bytes declared as UTF-8 and UTF-8 bytes declared as
windows-1256; a parser that believes the declaration produces mojibake. We decide ourselves,
in this order, and take the first that holds:

1. a byte-order mark (UTF-8, UTF-16, UTF-32) — it cannot be there by accident;
2. strict UTF-8 — Arabic text in another 8-bit encoding almost never decodes as valid UTF-8,
   so success is strong evidence whatever the declaration says (a double-encoded body,
   UTF-8 read as cp1252 and encoded again, is repaired here);
3. the charset of the HTTP ``Content-Type`` (RFC 9110 §8.3), then the one in the XML
   declaration — each only if it decodes strictly and does not look like mojibake (Latin-1
   letters where cp1256 would give Arabic);
4. windows-1256, the usual encoding of legacy Arabic sites;
5. UTF-8 with replacement characters, so that one bad byte never loses a whole feed.

The text we return has an XML declaration that says UTF-8 (or none), so that the parser,
given ``text.encode("utf-8")``, cannot decode it a second time.
"""

from __future__ import annotations

import codecs
import re

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


def decode_feed_bytes(body: bytes, content_type: str | None) -> str:
    """The text of a feed body, decoded by the rules in the module docstring."""
    text = _decode(body, content_type)
    return _declare_utf8(text.lstrip("\ufeff"))


def _decode(body: bytes, content_type: str | None) -> str:
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    try:
        return _repair_double_encoding(body.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    for declared in (http_charset(content_type), xml_charset(body)):
        text = _strict(body, declared)
        if text is not None and not _looks_like_mojibake(text, body):
            return text
    text = _strict(body, "cp1256")
    if text is not None:
        return text
    return body.decode("utf-8", errors="replace")


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
    """Undo UTF-8 that was read as cp1252 and encoded as UTF-8 again, if it is that."""
    if len(_DOUBLE_ENCODED.findall(text)) < 3 or _ARABIC_LETTER.search(text):
        return text
    for encoding in ("cp1252", "latin-1"):
        try:
            return text.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
    return text


def _declare_utf8(text: str) -> str:
    """Rewrite the XML declaration's encoding to UTF-8 (leave the rest of it alone)."""
    return _XML_DECL.sub(r'\1 encoding="utf-8"', text, count=1)
