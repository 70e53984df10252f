"""OPML import and export: nesting, names, refusals, round trip, TOML for the config."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.config import parse_config
from tracker.errors import ConfigError
from tracker.ops.opml import OpmlFeed, feeds_toml, read_opml, write_opml

NESTED = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="أخبار">
      <outline type="rss" text="الجزيرة" title="الجزيرة نت" xmlUrl="https://www.aljazeera.net/rss"/>
      <outline text="تقنية">
        <outline type="atom" text="عالم التقنية" xmlUrl="https://www.tech-wd.com/wd/feed/"/>
      </outline>
    </outline>
    <outline text="No title, only text" XMLURL="http://example.com/feed.xml"/>
    <outline type="link" text="a web page" url="https://example.com/"/>
    <outline type="rss" text="a mail link" xmlUrl="mailto:someone@example.com"/>
    <outline type="rss" text="duplicate" xmlUrl="https://www.aljazeera.net/rss"/>
    <outline type="rss" xmlUrl="https://example.org/untitled.rss"/>
  </body>
</opml>
""".encode()


def test_reads_nested_outlines_and_skips_non_feeds() -> None:
    """Feeds in nested folders are found; links, non-http URLs and repeated URLs are skipped."""
    assert read_opml(NESTED, "subs.opml") == [
        OpmlFeed("https://www.aljazeera.net/rss", "الجزيرة نت"),
        OpmlFeed("https://www.tech-wd.com/wd/feed/", "عالم التقنية"),
        OpmlFeed("http://example.com/feed.xml", "No title, only text"),
        OpmlFeed("https://example.org/untitled.rss", "https://example.org/untitled.rss"),
    ]


def test_windows_1256_document_is_decoded_by_its_declaration() -> None:
    """An OPML file declared and encoded as windows-1256 keeps its Arabic names."""
    doc = ('<?xml version="1.0" encoding="windows-1256"?><opml version="1.0"><body>'
           '<outline text="اليوم السابع" xmlUrl="https://www.youm7.com/rss"/></body></opml>')
    assert read_opml(doc.encode("cp1256")) == [
        OpmlFeed("https://www.youm7.com/rss", "اليوم السابع")]


@pytest.mark.parametrize(("doc", "problem"), [
    (b"<opml><body><outline", "not valid XML"),
    (b"", "not valid XML"),
    (b"<rss><channel/></rss>", "not an OPML document"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>',
     "DTDs and entity declarations"),
    (b'<!DOCTYPE opml SYSTEM "file:///etc/passwd"><opml><body/></opml>',
     "DTDs and entity declarations"),
])
def test_bad_documents_raise_config_error_naming_the_file(doc: bytes, problem: str) -> None:
    """Broken XML, a non-OPML root and any DTD raise ConfigError naming the file."""
    with pytest.raises(ConfigError, match=problem) as info:
        read_opml(doc, "import/subs.opml")
    assert info.value.file == "import/subs.opml"


def test_write_then_read_round_trips_with_escaping() -> None:
    """Exported OPML reads back to the same feeds; Arabic is kept and markup escaped."""
    feeds = [OpmlFeed("https://example.com/rss?a=1&b=2", 'Tom & "Jerry" <news>'),
             OpmlFeed("https://www.aljazeera.net/rss", "الجزيرة نت")]
    data = write_opml(feeds, "tracker — الخلاصات", created=datetime(2025, 8, 29, tzinfo=UTC))
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert "الجزيرة نت".encode() in data
    assert b"a=1&amp;b=2" in data and b"&lt;news&gt;" in data
    assert b"<dateCreated>Fri, 29 Aug 2025 00:00:00 +0000</dateCreated>" in data
    assert read_opml(data) == feeds


def test_feeds_toml_is_valid_config_and_skips_known_urls(tmp_path: Path) -> None:
    """feeds_toml writes [[feeds]] entries that the config loader accepts, minus known URLs."""
    feeds = [OpmlFeed("https://a.example/rss", 'قناة "العربية"\\ خاص'),
             OpmlFeed("https://b.example/rss", "B"),
             OpmlFeed("https://a.example/rss", "again")]
    text = feeds_toml(feeds, existing=["https://b.example/rss"])
    raw = tomllib.loads(text)
    assert raw == {"feeds": [{"url": "https://a.example/rss", "name": 'قناة "العربية"\\ خاص'}]}
    config = parse_config(raw, tmp_path / "tracker.toml", {})
    assert [f.name for f in config.feeds] == ['قناة "العربية"\\ خاص']
    assert feeds_toml([], existing=[]) == ""
