"""Feed strings through every output: console alerts, ``tracker poll|timeline|feeds|feeds
test|classify``, the logs (text and JSON), Telegram HTML and all six exports
(tests/data/feeds/injection.json).

The hostile title carries an ESC sequence, rich markup (``[/b]`` crashed rich, ``[video]``
vanished), ``<script>`` and a leading ``=HYPERLINK(``; a second feed is an HTML page whose
feed link carries ESC, BEL and an 8-bit CSI, a third answers 500 with a hostile reason phrase
(both end up in error messages, logs and ``tracker feeds``). Each output must show the text as
text: no control character reaches a terminal, markup is printed literally, HTML is escaped,
a CSV cell never starts a formula. Real processes, a real loopback feed server, SQLite.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from tests.support.configs import write_config
from tests.support.feedserver import FeedServer, Item, Response, rss
from tracker.alerts.render import alert_html
from tracker.app import load_classifier
from tracker.config import load_config
from tracker.logs import JsonFormatter, TextFormatter
from tracker.model import SourceView, TimelineEvent

REPO = Path(__file__).resolve().parents[1]
CASE = json.loads((REPO / "tests" / "data" / "feeds" / "injection.json").read_text("utf-8"))
ESC = "\x1b"
# What a terminal acts on instead of showing: C0 but newline and tab, DEL, C1, bidi overrides.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE_PAGE = ('<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" '
                'href="/rss/\x1b]0;pwned\x07\x1b[2J\x9b31m[/b]<i>.xml"></head><body>ص</body>'
                '</html>')
HOSTILE_REASON = "Bro\x9b31mken [/b] <b>"


def _tracker(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "600"}
    env.pop("TRACKER_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120, env=env)


def _clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not UNSAFE.search(proc.stdout) and not UNSAFE.search(proc.stderr)
    assert "MarkupError" not in proc.stderr and "Traceback" not in proc.stderr


def test_every_console_command_prints_feed_strings_as_text(tmp_path: Path) -> None:
    """poll, feeds, timeline, feeds test, the logs and the six exports never run a feed
    string."""
    now = datetime.now(UTC)
    item = Item(CASE["title"], link="/n/1", guid="n1", description=CASE["text"],
                pub_date=format_datetime(now - timedelta(hours=1), usegmt=True))
    with FeedServer() as srv:
        srv.add("/feed.xml", rss([item]), content_type="application/rss+xml; charset=utf-8")
        srv.add("/page.html", HOSTILE_PAGE.encode("utf-8"), content_type="text/html")
        srv.script("/broken.xml", [Response(status=500, reason=HOSTILE_REASON)])
        cfg = write_config(tmp_path, {"outlet [/b] <i>": srv.url("/feed.xml"),
                                      "page": srv.url("/page.html"),
                                      "broken": srv.url("/broken.xml")})
        poll = _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path)
        _clean(poll)
        assert "alert →" in poll.stdout and "[/b]" in poll.stdout  # the console alert
        assert "[/b]<i>.xml" in poll.stderr and "ken [/b] <b>" in poll.stderr  # errors, logs
        json_cfg = tmp_path / "json-logs.toml"
        json_cfg.write_text(cfg.read_text("utf-8") + '\n[logging]\nformat = "json"\n', "utf-8")
        logged = _tracker("poll", "--once", "--config", str(json_cfg), cwd=tmp_path)
        _clean(logged)
        lines = [json.loads(line) for line in logged.stderr.splitlines() if line.startswith("{")]
        errors = [e.get("error", "") for e in lines if e["event"] == "feed_failed"]
        assert any("[/b]<i>.xml" in e for e in errors) and any("ken [/b] <b>" in e for e in errors)
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
    assert "outlet [/b] <i>" in feeds.stdout and "[2J31m[/b]<i>.xml" in feeds.stdout
    week = now.strftime("%G-W%V")
    exported = {fmt: _tracker("export", "--week", week, "--format", fmt, "--config", str(cfg),
                              cwd=tmp_path)
                for fmt in ("csv", "html", "md", "json", "ics", "timelinejs")}
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
    (summary,) = re.findall(r"^SUMMARY:.*(?:\r?\n .*)*", exported["ics"].stdout, re.M)
    summary = re.sub(r"\r?\n ", "", summary)  # unfold (RFC 5545 §3.1)
    assert "[/b] [video]" in summary and "<script>alert(1)</script>" in summary
    slides = json.loads(exported["timelinejs"].stdout)["events"]
    shown = re.sub(r"</?bdi[^>]*>", "", slides[0]["text"]["headline"])  # TimelineJS renders HTML
    assert "<script>" not in shown and "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


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


def test_logs_write_feed_strings_as_data() -> None:
    """A feed string in a log line (text or JSON) cannot drive the terminal or forge a line;
    JSON keeps it intact as escapes."""
    hostile = CASE["terminal"] + "\x9b31m\u202e[/b] <script>\nfake_line level=ERROR"
    record = logging.LogRecord("tracker", logging.WARNING, __file__, 1, "feed_failed", None,
                               None)
    record.error = hostile
    text = TextFormatter().format(record)
    assert not UNSAFE.search(text) and "\n" not in text
    assert "[/b] <script>\\nfake_line" in text
    line = JsonFormatter().format(record)
    assert not UNSAFE.search(line) and "\n" not in line
    assert json.loads(line)["error"] == hostile
