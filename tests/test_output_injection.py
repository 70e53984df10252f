"""Feed strings through every output: console alerts, ``tracker poll|timeline|feeds|feeds
test|classify``, Telegram HTML and the exports (tests/data/feeds/injection.json).

The hostile title carries an ESC sequence, rich markup (``[/b]`` crashed rich, ``[video]``
vanished), ``<script>`` and a leading ``=HYPERLINK(``. Each output must show the text as
text: no control character reaches a terminal, markup is printed literally, HTML is escaped,
a CSV cell never starts a formula. Real processes, a real loopback feed server, SQLite.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.support.configs import write_config
from tests.support.feedserver import FeedServer, Item, rss
from tracker.alerts.render import alert_html
from tracker.app import load_classifier
from tracker.config import load_config
from tracker.model import SourceView, TimelineEvent

REPO = Path(__file__).resolve().parents[1]
CASE = json.loads((REPO / "tests" / "data" / "feeds" / "injection.json").read_text("utf-8"))
ESC = "\x1b"


def _tracker(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "600"}
    env.pop("TRACKER_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120, env=env)


def _clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ESC not in proc.stdout and ESC not in proc.stderr and "\x07" not in proc.stdout
    assert "MarkupError" not in proc.stderr and "Traceback" not in proc.stderr


def test_every_console_command_prints_feed_strings_as_text(tmp_path: Path) -> None:
    """poll, feeds, timeline, feeds test, classify and the exports never run a feed string."""
    now = datetime.now(UTC)
    item = Item(CASE["title"], link="/n/1", guid="n1", description=CASE["text"],
                pub_date=format_datetime(now - timedelta(hours=1), usegmt=True))
    with FeedServer() as srv:
        srv.add("/feed.xml", rss([item]), content_type="application/rss+xml; charset=utf-8")
        cfg = write_config(tmp_path, {"outlet [/b] <i>": srv.url("/feed.xml")})
        poll = _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path)
        _clean(poll)
        assert "alert →" in poll.stdout and "[/b]" in poll.stdout  # the console alert
        tested = _tracker("feeds", "test", srv.url("/feed.xml"), "--config", str(cfg),
                          cwd=tmp_path)
        _clean(tested)
        assert all(text in tested.stdout for text in [*CASE["literal"], CASE["html_text"]])
    # Rows written before control characters were stripped at ingest still print safely.
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        conn.execute("UPDATE event SET headline = headline || ?", (CASE["terminal"],))
        conn.execute("UPDATE feed SET last_warning = ?", (CASE["terminal"] + "[/b]",))
    conn.close()
    timeline = _tracker("timeline", "--config", str(cfg), cwd=tmp_path)
    _clean(timeline)
    assert all(text in timeline.stdout for text in [*CASE["literal"], CASE["html_text"]])
    feeds = _tracker("feeds", "--config", str(cfg), cwd=tmp_path)
    _clean(feeds)
    assert "outlet [/b] <i>" in feeds.stdout
    week = now.strftime("%G-W%V")
    exported = {fmt: _tracker("export", "--week", week, "--format", fmt, "--config", str(cfg),
                              cwd=tmp_path) for fmt in ("csv", "html", "md", "json")}
    for proc in exported.values():
        _clean(proc)
    rows = list(csv.DictReader(io.StringIO(exported["csv"].stdout.lstrip("\ufeff"))))
    assert rows and all(not r["headline"].startswith("=") for r in rows)
    assert rows[0]["headline"].startswith("'=HYPERLINK(")
    page = re.sub(r"</?bdi[^>]*>", "", exported["html"].stdout)  # Latin runs are isolated
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in exported["md"].stdout
    headlines = [e["headline"] for e in json.loads(exported["json"].stdout)["events"]]
    assert headlines and all(ESC not in h for h in headlines)


def test_classify_report_prints_hostile_text_literally(tmp_path: Path) -> None:
    """`tracker classify` shows an ESC-laden, [/b]-laden title as text, without crashing."""
    stdin = CASE["terminal"] + CASE["title"] + "\n" + CASE["text"] + "\n"
    proc = _tracker("classify", "--config", str(REPO / "config" / "tracker.toml"), cwd=tmp_path,
                    stdin=stdin)
    _clean(proc)
    assert all(text in proc.stdout for text in CASE["literal"])


def test_telegram_html_escapes_feed_strings() -> None:
    """The Telegram alert's HTML carries the title as escaped text, never as tags."""
    labels = load_classifier(load_config(REPO / "config" / "tracker.toml"))
    now = datetime(2025, 9, 1, tzinfo=UTC)
    event = TimelineEvent(
        id=1, type="export_permit", headline=CASE["html_text"] + " [/b]", entities=(),
        event_date=None,
        sort_date=now, status="reported", first_seen=now, first_outlet="<b>x</b>",
        source_count=1, alerted=False, evidence=("[/b]",))
    html = alert_html(event, [SourceView("<i>outlet</i>", "https://x.example/?a=1&b=\"2\"",
                                         now, now)], labels)
    html = html.replace("\u2066", "").replace("\u2069", "")  # Latin runs are bidi-isolated
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<i>outlet</i>" not in html and "&lt;i&gt;outlet&lt;/i&gt;" in html
    assert '&quot;2&quot;' in html
