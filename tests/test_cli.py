"""The command line as people and other tools use it: real processes, real files."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx

from tests.support.feedserver import FeedServer, Item, rss

REPO = Path(__file__).resolve().parents[1]


def _tracker(*args: str, cwd: Path, stdin: str | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TRACKER_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=env)


def _config(tmp_path: Path, feed_urls: list[str]) -> Path:
    feeds = "".join(f'\n[[feeds]]\nurl = "{u}"\nname = "outlet {i}"\n'
                    for i, u in enumerate(feed_urls))
    body = f"""
[database]
url = "sqlite:///{tmp_path / 'tracker.db'}"
[classifier]
taxonomy = "{REPO / 'config' / 'taxonomy.toml'}"
entities = "{REPO / 'config' / 'entities.toml'}"
{feeds}
[[watchlists]]
name = "all"
events = []
entities = []
chats = ["console"]
"""
    path = tmp_path / "tracker.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("item", "event", "event_source", "outbox")}
    finally:
        conn.close()


def test_poll_once_twice_creates_no_duplicates(tmp_path: Path) -> None:
    """Two `tracker poll --once` runs over the same feeds leave the same items, events, alerts."""
    now = datetime.now(UTC) - timedelta(hours=1)
    items = [
        Item(title="واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين", link="/a/1",
             guid="a1", pub_date=format_datetime(now, usegmt=True)),
        Item(title="هواوي تبدأ الإنتاج الضخم لرقائق أسيند 910C", link="/a/2", guid="a2",
             pub_date=format_datetime(now, usegmt=True)),
    ]
    with FeedServer() as srv:
        srv.add("/a.xml", rss(items), content_type="application/rss+xml")
        srv.add("/b.xml", rss(items[:1]), content_type="application/rss+xml")
        srv.add("/dead.xml", b"gone", status=404)
        cfg = _config(tmp_path, [srv.url("/a.xml"), srv.url("/b.xml"), srv.url("/dead.xml")])
        first = _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        after_first = _counts(tmp_path / "tracker.db")
        second = _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path)
        assert second.returncode == 0, second.stderr
    assert after_first == _counts(tmp_path / "tracker.db")
    assert after_first["event"] >= 2 and after_first["outbox"] >= 2
    assert "http_404" in first.stderr or "404" in first.stderr
    assert "H20" in first.stdout  # the console notifier printed the alert
    assert "H20" not in second.stdout


def test_classify_jsonl_keeps_order_and_shape(tmp_path: Path) -> None:
    """`tracker classify --jsonl` answers one line per input, in order, in DESIGN's shape."""
    lines = [
        {"id": "a", "title": "نفت إنفيديا تلقي أي طلب من بكين بوقف شراء رقائقها", "text": ""},
        {"id": "b", "title": "", "text": "أعلنت هواوي بدء الإنتاج الضخم لشريحة أسيند 910C",
         "published": "2025-08-29T10:00:00Z"},
        {"id": "c", "title": "مراجعة بطاقة ألعاب جديدة", "text": "أداء ممتاز في الألعاب بدقة 4K"},
    ]
    stdin = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines) + "not json\n"
    proc = _tracker("classify", "--jsonl", "--config", str(REPO / "config" / "tracker.toml"),
                    cwd=REPO, stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", None]
    assert "error" in out[3]
    for o in out[:3]:
        for ev in o["events"]:
            assert set(ev) >= {"type", "confidence", "entities", "event_date", "status",
                               "recap", "evidence"}
    assert all(ev["status"] == "denied" for ev in out[0]["events"])
    assert "mass_production" in {ev["type"] for ev in out[1]["events"]}
    assert "huawei" in out[1]["events"][0]["entities"]
    assert out[2]["events"] == []


def test_demo_daemon_prints_alerts_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`tracker run --config config/demo.toml` alerts within a minute and stops on SIGTERM."""
    # a relative SQLite path in the environment is relative to the working directory
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
           "TRACKER_DATABASE_URL": "sqlite:///data/demo.db"}
    log = (tmp_path / "stderr.log").open("w")
    with subprocess.Popen(
        [sys.executable, "-m", "tracker", "run", "--config", str(REPO / "config" / "demo.toml")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=log, text=True, env=env,
    ) as proc:
        assert proc.stdout is not None
        _wait_for_alert_then_stop(proc)
    log.close()
    db = tmp_path / "data" / "demo.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*) from event").fetchone()[0] >= 1
    conn.close()


def _wait_for_alert_then_stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    try:
        deadline = time.monotonic() + 60
        seen = ""
        while time.monotonic() < deadline and "alert →" not in seen:
            seen += proc.stdout.readline()
        assert "alert →" in seen, "no alert within a minute"
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        proc.wait(timeout=15)
        assert time.monotonic() - started < 10
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _daemon_config(tmp_path: Path, urls: list[str], port: int) -> None:
    feeds = "".join(f'\n[[feeds]]\nurl = "{u}"\ninterval = "1s"\n' for u in urls)
    (tmp_path / "tracker.toml").write_text(f"""
[database]
url = "sqlite:///{tmp_path / 'tracker.db'}"
[scheduler]
min_interval = "1s"
tick = "1s"
[health]
port = {port}
[classifier]
taxonomy = "{REPO / 'config' / 'taxonomy.toml'}"
entities = "{REPO / 'config' / 'entities.toml'}"
{feeds}
""", encoding="utf-8")


def _wait(predicate, timeout: float = 20) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_sighup_adds_and_removes_feeds_without_a_restart(tmp_path: Path) -> None:
    """After SIGHUP with feed B added and feed A removed, B is polled and A no longer is;
    meanwhile /healthz and /metrics answer."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TRACKER_DATABASE_URL", None)
    body = rss([Item(title="خبر للاختبار", link="/n/1", guid="1")])
    with FeedServer() as srv:
        srv.add("/a.xml", body, content_type="application/rss+xml")
        srv.add("/b.xml", body, content_type="application/rss+xml")
        _daemon_config(tmp_path, [srv.url("/a.xml")], port)
        log = (tmp_path / "daemon.log").open("w")
        with subprocess.Popen([sys.executable, "-m", "tracker", "run", "--config",
                               str(tmp_path / "tracker.toml")], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT) as proc:
            try:
                assert _wait(lambda: len(srv.requests_for("/a.xml")) >= 2)
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                assert health.status_code == 200 and health.json()["database"] == "ok"
                metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
                assert "tracker_polls_total" in metrics
                _daemon_config(tmp_path, [srv.url("/b.xml")], port)
                proc.send_signal(signal.SIGHUP)
                assert _wait(lambda: len(srv.requests_for("/b.xml")) >= 2)
                time.sleep(1.5)  # one more tick, in case a poll of A was in flight
                polled_a = len(srv.requests_for("/a.xml"))
                time.sleep(3)
                assert len(srv.requests_for("/a.xml")) == polled_a
                assert proc.poll() is None, "the daemon restarted or died"
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
        log.close()
    assert "config_reloaded" in (tmp_path / "daemon.log").read_text()
