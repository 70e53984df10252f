"""decode_feed_bytes: the encoding we decide, whatever the feed declares."""

from __future__ import annotations

import pytest

from tracker.feeds.decode import decode_feed_bytes, http_charset, xml_charset

ARABIC = "إنفيديا تستأنف تصدير الشرائح إلى الصين"


def _doc(declared: str | None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    return f"{decl}<rss><channel><title>{ARABIC}</title></channel></rss>"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (_doc("windows-1256").encode("cp1256"), "text/xml; charset=windows-1256"),
        (_doc("utf-8").encode("cp1256"), "text/xml; charset=utf-8"),
        (_doc("utf-8").encode("cp1256"), None),
        (_doc("windows-1256").encode("utf-8"), "text/xml; charset=windows-1256"),
        (_doc("iso-8859-1").encode("cp1256"), "text/xml; charset=iso-8859-1"),
        (b"\xef\xbb\xbf" + _doc("windows-1256").encode("utf-8"), "text/xml; charset=cp1256"),
        (_doc("utf-16").encode("utf-16"), None),
        (_doc(None).encode("cp1256"), "application/rss+xml"),
    ],
    ids=["cp1256-honest", "cp1256-says-utf8", "cp1256-says-utf8-xml-only", "utf8-says-cp1256",
         "cp1256-says-latin1", "utf8-bom", "utf16-bom", "cp1256-undeclared"],
)  # fmt: skip
def test_arabic_is_recovered(data: bytes, content_type: str | None) -> None:
    """The Arabic title comes back intact and the declaration says UTF-8 (or nothing)."""
    text = decode_feed_bytes(data, content_type)
    assert ARABIC in text
    assert "windows-1256" not in text and "iso-8859-1" not in text and "utf-16" not in text


def test_declaration_is_rewritten_to_utf8() -> None:
    """The XML declaration's encoding becomes utf-8, the rest of it stays."""
    text = decode_feed_bytes(
        b"<?xml version='1.0' encoding='windows-1256' standalone='yes'?><rss/>", None
    )
    assert text.startswith("<?xml version='1.0' encoding=\"utf-8\" standalone='yes'?>")


def test_double_encoded_utf8_is_repaired() -> None:
    """UTF-8 read as latin-1 or cp1252 and stored as UTF-8 again is turned back into Arabic."""
    for wrong in ("latin-1", "cp1252"):
        text = "خبر عن شرائح الذكاء الاصطناعي"  # no ف: cp1252 has no character for its byte 0x81
        mangled = _doc("utf-8").replace(ARABIC, text).encode().decode(wrong).encode("utf-8")
        assert text in decode_feed_bytes(mangled, "text/xml; charset=utf-8")


def test_undecodable_bytes_never_raise() -> None:
    """Bytes no codec accepts still give text (with replacement characters)."""
    text = decode_feed_bytes(b"\x81\x8d\x8f\x90\x9d" * 3, "text/xml; charset=utf-8")
    assert isinstance(text, str)


def test_charset_helpers() -> None:
    """Charset comes from the Content-Type parameter and from the XML declaration."""
    assert http_charset('application/rss+xml; charset="Windows-1256"') == "Windows-1256"
    assert http_charset("text/xml") is None and http_charset(None) is None
    assert xml_charset(b"<?xml version='1.0' encoding='cp1256'?><rss/>") == "cp1256"
    assert xml_charset(b"<rss/>") is None
