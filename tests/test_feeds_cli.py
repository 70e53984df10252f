"""`tracker feeds import|export|test` against real files and a loopback feed server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.feedserver import FeedServer, Item, rss
from tracker.config import load_config
from tracker.ops.opml import read_opml

REPO = Path(__file__).resolve().parents[1]


def _tracker(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env=env)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(f'[classifier]\ntaxonomy = "{REPO / "config" / "taxonomy.toml"}"\n'
                    f'entities = "{REPO / "config" / "entities.toml"}"\n\n'
                    '[[feeds]]\nurl = "https://a.example/feed"\nname = "أ"\n', encoding="utf-8")
    return path


def test_opml_import_appends_only_new_feeds_and_export_round_trips(tmp_path: Path) -> None:
    """Importing OPML with --write adds the new feeds; exporting gives them all back."""
    cfg = _config(tmp_path)
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>x</title></head>'
        '<body><outline text="تقنية"><outline type="rss" text="البوابة" '
        'xmlUrl="https://b.example/feed"/><outline type="rss" text="أ" '
        'xmlUrl="https://a.example/feed"/></outline></body></opml>', encoding="utf-8")
    proc = _tracker("feeds", "import", str(opml), "--write", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    feeds = load_config(cfg, env={}).feeds
    assert [(f.url, f.name) for f in feeds] == [("https://a.example/feed", "أ"),
                                                 ("https://b.example/feed", "البوابة")]
    out = tmp_path / "out.opml"
    proc = _tracker("feeds", "export", "-o", str(out), "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [(f.url, f.name) for f in read_opml(out.read_bytes())] == [
        (f.url, f.name) for f in feeds]


def test_opml_import_of_a_broken_file_names_it_and_changes_nothing(tmp_path: Path) -> None:
    """A malformed OPML file is reported by name, exit 2, and the config stays as it was."""
    cfg = _config(tmp_path)
    before = cfg.read_text(encoding="utf-8")
    bad = tmp_path / "bad.opml"
    bad.write_text("<opml><body><outline", encoding="utf-8")
    proc = _tracker("feeds", "import", str(bad), "--write", "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 2 and "bad.opml" in proc.stderr
    assert cfg.read_text(encoding="utf-8") == before


def test_feeds_test_shows_items_dates_and_events_without_storing(tmp_path: Path) -> None:
    """`tracker feeds test URL` prints each decoded item, its UTC date (or why it has none)
    and its events."""
    cfg = _config(tmp_path)
    item = Item(title="هواوي تبدأ الإنتاج الضخم لرقائق أسيند 910C", link="/n/1", guid="1",
                pub_date="الجمعة، ٢٩ أغسطس ٢٠٢٥ ٠٩:٠٠ GMT+3")
    undated = Item(title="شركة ناشئة تعرض معالجاً جديداً", link="/n/2", guid="2",
                   pub_date="Mon, 01 Sep 2025 10:00:00 +1500")
    with FeedServer() as srv:
        srv.add("/f.xml", rss([item, undated], encoding="utf-8", declared="windows-1256"),
                content_type="application/rss+xml; charset=windows-1256")
        proc = _tracker("feeds", "test", srv.url("/f.xml"), "--config", str(cfg), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "هواوي تبدأ الإنتاج الضخم" in proc.stdout
    assert "2025-08-29T06:00:00+00:00" in proc.stdout
    assert "[missing: unreadable date 'Mon, 01 Sep 2025 10:00:00 +1500']" in proc.stdout
    assert "mass_production" in proc.stdout or "إنتاج" in proc.stdout
    assert not list(tmp_path.glob("**/*.db"))
