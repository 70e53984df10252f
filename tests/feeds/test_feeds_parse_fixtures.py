"""Hostile and odd feed bodies, one case per fixture in tests/data/feeds/parse/.

Each ``<case>.json`` names its body file (``<case>.body``, the exact bytes a server sent), the
Content-Type it came with, ``why`` it matters, and what ``parse_feed`` must make of it under
``expect``: ``titles`` (all, in order) or ``titles_include``, ``feed_title``, ``links``,
``guids``, ``contents``, ``published`` (ISO UTC or null per entry), ``count``, ``warning``
(a substring of the feed's warning), ``error`` (a substring of the ``ParseError``),
``no_mojibake`` (no windows-1256 reading of UTF-8 Arabic), ``date_problems`` (entries whose
date was refused), ``max_title_chars``/``max_summary_chars`` and ``timezone``. Adding a case
needs no code.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tracker.errors import ParseError
from tracker.feeds.parse import parse_feed

HERE = Path(__file__).parents[1] / "data" / "feeds" / "parse"
CASES = sorted(HERE.glob("*.json"))
NOW = datetime(2025, 9, 3, tzinfo=UTC)
# UTF-8 Arabic read as windows-1256: "ط" or "ظ" (lead bytes D8, D9) followed by what cp1256
# makes of a continuation byte (0x80–0xBF).
_CONTINUATION = bytes(range(0x80, 0xC0)).decode("cp1256", errors="ignore")
MOJIBAKE = re.compile(f"[طظ][{re.escape(_CONTINUATION)}]")


def _load(path: Path) -> tuple[dict[str, Any], bytes]:
    case = json.loads(path.read_text(encoding="utf-8"))
    return case, (HERE / case["body"]).read_bytes()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_parse_fixture(path: Path) -> None:
    """The body parses (or fails) exactly as the fixture expects."""
    case, body = _load(path)
    expect = case["expect"]
    why = case["why"]
    parse = {"content_type": case["content_type"], "final_url": "https://news.example/feed",
             "now": NOW, "feed_timezone": expect.get("timezone")}
    if "error" in expect:
        with pytest.raises(ParseError) as caught:
            parse_feed(body, **parse)
        assert expect["error"] in str(caught.value), why
        return
    feed = parse_feed(body, **parse)
    entries = feed.entries
    titles = [e.title for e in entries]
    if "titles" in expect:
        assert titles == expect["titles"], why
    for title in expect.get("titles_include", []):
        assert title in titles, why
    if "feed_title" in expect:
        assert feed.title == expect["feed_title"], why
    if "links" in expect:
        assert [e.link for e in entries] == expect["links"], why
    if "guids" in expect:
        assert [e.guid for e in entries] == expect["guids"], why
    if "contents" in expect:
        assert [e.content for e in entries] == expect["contents"], why
    if "published" in expect:
        got = [e.published.isoformat() if e.published else None for e in entries]
        assert got == expect["published"], why
    if "count" in expect:
        assert len(entries) == expect["count"], why
    if "warning" in expect:
        assert feed.warning is not None and expect["warning"] in feed.warning, why
    if expect.get("no_mojibake"):
        assert not any(MOJIBAKE.search(t) for t in [feed.title, *titles]), why
    if "date_problems" in expect:
        problems = [e for e in entries if e.date_problem]
        assert len(problems) == expect["date_problems"], why
        assert all(e.published is None and e.date_status == "missing" for e in problems), why
    if "max_title_chars" in expect:
        assert 0 < max(len(t) for t in titles) <= expect["max_title_chars"], why
    if "max_summary_chars" in expect:
        assert 0 < max(len(e.summary) for e in entries) <= expect["max_summary_chars"], why
    for entry in entries:  # no control character survives, whatever the case
        fields = (entry.title, entry.summary, entry.content, entry.guid or "", entry.link or "")
        assert not any(re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", f) for f in fields), why
