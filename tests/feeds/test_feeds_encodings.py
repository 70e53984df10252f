"""Arabic feeds whose declared encodings lie, fetched from the loopback server and parsed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.feedserver import FeedServer, Item, rss
from tracker.feeds.fetch import Fetcher
from tracker.feeds.poll import fetch_and_parse

NOW = datetime(2025, 9, 1, tzinfo=UTC)
TZ = "Asia/Riyadh"  # +03:00 all year; used for dates without a zone

# (title, summary HTML, summary text, pubDate with ASCII digits, the same with Arabic-Indic
# digits, expected UTC). cp1256 has no Arabic-Indic digits, so its feeds use ASCII ones.
CASES = [
    ("إنفيديا تستأنف تصدير شرائح H20 إلى الصين",
     "<p>سمحت الإدارة الأمريكية <b>باستئناف</b> التصدير</p>",
     "سمحت الإدارة الأمريكية باستئناف التصدير",
     "الأحد، 24 أغسطس 2025 10:30 GMT+3", "الأحد، ٢٤ أغسطس ٢٠٢٥ ١٠:٣٠ GMT+3",
     datetime(2025, 8, 24, 7, 30, tzinfo=UTC)),
    ("علي بابا تطور رقاقة جديدة للاستدلال", "طورت الشركة شريحة جديدة",
     "طورت الشركة شريحة جديدة",
     "24 آب 2025 10:30 ص", "٢٤ آب ٢٠٢٥ ١٠:٣٠ ص",
     datetime(2025, 8, 24, 7, 30, tzinfo=UTC)),
    ("ميتا إكس تستعد للإنتاج الضخم", "<div>الإنتاج بكميات كبيرة &amp; بدء الشحن</div>",
     "الإنتاج بكميات كبيرة & بدء الشحن",
     "الاثنين 25 جويلية 2025 14:00 AST", "الاثنين ٢٥ جويلية ٢٠٢٥ ١٤:٠٠ AST",
     datetime(2025, 7, 25, 11, 0, tzinfo=UTC)),
    ("بكين تحث الشركات على تجنب شراء الشرائح", "حذرت الجهات التنظيمية من مخاطر أمنية",
     "حذرت الجهات التنظيمية من مخاطر أمنية",
     "3 كانون الثاني 2025 09:15 م", "٣ كانون الثاني ٢٠٢٥ ٠٩:١٥ م",
     datetime(2025, 1, 3, 18, 15, tzinfo=UTC)),
]  # fmt: skip


def _items(indic: bool) -> list[Item]:
    return [
        Item(title, link=f"/news/{i}", description=html, pub_date=indic_date if indic else date)
        for i, (title, html, _, date, indic_date, _) in enumerate(CASES)
    ]


# (case id, encoding of the bytes, XML declaration, HTTP Content-Type, BOM, Arabic-Indic)
VARIANTS = [
    ("cp1256-declared-correctly", "cp1256", "windows-1256",
     "application/rss+xml; charset=windows-1256", False, False),
    ("cp1256-declared-utf8-everywhere", "cp1256", "utf-8",
     "application/rss+xml; charset=utf-8", False, False),
    ("cp1256-declared-utf8-in-xml-only", "cp1256", "UTF-8", "application/rss+xml", False, False),
    ("cp1256-undeclared", "cp1256", None, "text/xml", False, False),
    ("utf8-declared-cp1256-everywhere", "utf-8", "windows-1256",
     "text/xml; charset=windows-1256", False, True),
    ("utf8-declared-cp1256-in-http-only", "utf-8", "utf-8",
     "application/rss+xml; charset=windows-1256", False, True),
    ("utf8-with-bom-declared-cp1256", "utf-8", "windows-1256",
     "application/xml; charset=windows-1256", True, True),
    ("utf8-declared-latin1", "utf-8", "iso-8859-1", "text/xml; charset=iso-8859-1", False, True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("encoding", "declared", "content_type", "bom", "indic"),
    [v[1:] for v in VARIANTS],
    ids=[v[0] for v in VARIANTS],
)
async def test_arabic_text_and_dates_survive_lying_encodings(
    server: FeedServer,
    fetcher: Fetcher,
    encoding: str,
    declared: str | None,
    content_type: str,
    bom: bool,
    indic: bool,
) -> None:
    """Every item's Arabic title and summary match the original and its UTC time is right."""
    body = rss(_items(indic), encoding=encoding, declared=declared, bom=bom)
    server.add("/feed/ar.xml", body, content_type=content_type)
    outcome = await fetch_and_parse(
        fetcher, server.url("/feed/ar.xml"), None, now=NOW, feed_timezone=TZ
    )
    assert outcome.feed is not None
    feed = outcome.feed
    assert feed.title == "أخبار الرقائق"
    assert feed.warning is None
    assert [e.title for e in feed.entries] == [case[0] for case in CASES]
    assert [e.summary for e in feed.entries] == [case[2] for case in CASES]
    assert [e.published for e in feed.entries] == [case[5] for case in CASES]
    assert all(e.date_status == "ok" for e in feed.entries)
    assert feed.entries[0].link == server.url("/news/0")
