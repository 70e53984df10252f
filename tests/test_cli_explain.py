"""``tracker timeline --explain``: why each mention joined an event, why an item did not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.support.feedserver import FeedServer, Item, rss
from tests.test_cli import _config, _tracker


def _item(key: str, title: str, summary: str) -> Item:
    when = datetime.now(UTC) - timedelta(minutes=30)
    return Item(title=title, description=summary, link=f"/{key}", guid=key,
                pub_date=format_datetime(when, usegmt=True))


def test_explain_lists_mentions_and_why_another_item_stayed_apart(tmp_path: Path) -> None:
    """Two outlets' H20 permit reports join with reasons; the H200 item is told apart."""
    with FeedServer() as srv:
        srv.add("/a.xml", rss([_item("a", "واشنطن تسمح لإنفيديا باستئناف تصدير رقائق H20 إلى "
                                     "الصين", "سمحت الإدارة الأمريكية لإنفيديا باستئناف تصدير "
                                     "رقائق H20.")]), content_type="application/rss+xml")
        srv.add("/b.xml", rss([
            _item("b", "ضوء أخضر أمريكي لعودة مبيعات شرائح H20 من إنفيديا إلى الصين",
                  "منحت وزارة التجارة الأمريكية إنفيديا تراخيص لبيع شرائح H20 في الصين."),
            _item("c", "واشنطن توافق على بيع رقائق H200 من إنفيديا إلى الصين",
                  "وافقت الإدارة الأمريكية على منح إنفيديا تراخيص لتصدير رقائق H200.")]),
            content_type="application/rss+xml")
        cfg = _config(tmp_path, [srv.url("/a.xml"), srv.url("/b.xml")])
        assert _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path).returncode == 0
    listed = json.loads(_tracker("timeline", "--json", "--config", str(cfg),
                                 cwd=tmp_path).stdout)
    permits = [e for e in listed if e["type"] == "export_permit"]
    assert len(permits) == 2
    ids = [{x["id"] for x in e["entities"]} for e in permits]
    h20 = next(e for e, i in zip(permits, ids, strict=True) if "h20" in i)
    h200 = next(e for e, i in zip(permits, ids, strict=True) if "h200" in i)
    done = _tracker("timeline", "--explain", str(h20["id"]), "--json", "--config", str(cfg),
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    mentions = json.loads(done.stdout)["mentions"]
    assert len(mentions) == 2
    assert any(m["why"].startswith("joined: same type export_permit") for m in mentions)
    other = json.loads(_tracker("timeline", "--explain", str(h200["id"]), "--json",
                                "--config", str(cfg), cwd=tmp_path).stdout)["mentions"][0]
    apart = _tracker("timeline", "--explain", str(h20["id"]), "--item", str(other["item"]),
                     "--json", "--config", str(cfg), cwd=tmp_path)
    (verdict,) = [m for m in json.loads(apart.stdout)["mentions"]
                  if m.get("type") == "export_permit"]
    assert not verdict["joined"] and "products differ: h200" in verdict["why"]
    table = _tracker("timeline", "--explain", str(h20["id"]), "--config", str(cfg),
                     cwd=tmp_path)
    assert "same company or product" in table.stdout
    bad = _tracker("timeline", "--item", "1", "--config", str(cfg), cwd=tmp_path)
    assert bad.returncode == 2
