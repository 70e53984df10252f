"""``tracker run`` when Telegram is down at start: the daemon keeps working and says so once.

Each test runs the real daemon in a subprocess against a loopback feed and the Bot API
stand-in (absent at first, or refusing the token), then brings Telegram back.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from tests.support.botapi import BotApiServer
from tests.support.feedserver import FeedServer, Item, rss

REPO = Path(__file__).resolve().parents[2]
TOKEN = "987654:AAH-secret-token-that-must-never-show"
CHAT = "4242"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: Callable[[], bool], timeout: float = 25.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _config(tmp_path: Path, feed_url: str, api_port: int, health_port: int) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[database]
url = "sqlite:///{tmp_path / 'tracker.db'}"
[scheduler]
min_interval = "1s"
tick = "1s"
outbox_interval = "1s"
[health]
port = {health_port}
[classifier]
taxonomy = "{REPO / 'config' / 'taxonomy.toml'}"
entities = "{REPO / 'config' / 'entities.toml'}"
[telegram]
api_url = "http://127.0.0.1:{api_port}/bot"
retry_first = "1s"
retry_max = "2s"
[[feeds]]
url = "{feed_url}"
interval = "1s"
[[watchlists]]
name = "nvidia"
events = []
entities = ["nvidia"]
chats = ["{CHAT}"]
""", encoding="utf-8")
    return path


def _rows(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


def _health(port: int) -> tuple[int, dict[str, object]]:
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    except httpx.HTTPError:
        return 0, {}
    return r.status_code, r.json()


@pytest.mark.slow
@pytest.mark.parametrize("trouble", ["unreachable", "token_rejected"])
def test_daemon_polls_stores_and_queues_while_telegram_is_down_then_delivers(
    tmp_path: Path, trouble: str
) -> None:
    """Telegram down at start: feeds are polled, items stored, the alert queued, /healthz
    is 503 naming Telegram, one log line tells why (without the token); once Telegram is
    back the queued alert is delivered and /healthz is 200."""
    api_port, health_port = _free_port(), _free_port()
    now = format_datetime(datetime.now(UTC))
    body = rss([Item(title="إنفيديا تكشف عن شريحة جديدة للذكاء الاصطناعي", link="/n/1",
                     guid="n1", pub_date=now,
                     description="كشفت شركة إنفيديا اليوم عن شريحة جديدة لمراكز البيانات.")])
    env = {**os.environ, "PYTHONPATH": str(REPO), "TRACKER_TELEGRAM_TOKEN": TOKEN}
    env.pop("TRACKER_DATABASE_URL", None)
    db = tmp_path / "tracker.db"
    api = BotApiServer(port=api_port)
    if trouble == "token_rejected":
        api.token_rejected = True
        api.start()
    with FeedServer() as feeds:
        feeds.add("/f.xml", body, content_type="application/rss+xml")
        cfg = _config(tmp_path, feeds.url("/f.xml"), api_port, health_port)
        log_path = tmp_path / "daemon.log"
        with log_path.open("w") as log, subprocess.Popen(
                [sys.executable, "-m", "tracker", "run", "--config", str(cfg)], cwd=tmp_path,
                env=env, stdout=log, stderr=subprocess.STDOUT) as proc:
            try:
                assert _wait(lambda: len(feeds.requests_for("/f.xml")) >= 2)
                assert _wait(lambda: _rows(db, "SELECT count(*) FROM outbox WHERE "
                                               "state = 'pending'") >= 1)
                assert _rows(db, "SELECT count(*) FROM item") >= 1
                assert _wait(lambda: _health(health_port)[0] == 503)
                _, report = _health(health_port)
                assert "telegram" in report["failing"]  # type: ignore[operator]
                assert report["telegram"] == trouble and report["database"] == "ok"
                time.sleep(3)  # a few retries pass
                assert proc.poll() is None, "the daemon died"
                assert _rows(db, "SELECT max(attempts) FROM outbox") == 0  # nothing burnt

                if trouble == "token_rejected":
                    api.token_rejected = False
                else:
                    api.start()
                assert _wait(lambda: len(api.texts(CHAT)) == 1)
                assert _wait(lambda: _health(health_port)[0] == 200)
                assert _rows(db, "SELECT count(*) FROM outbox WHERE state = 'sent'") == 1
            finally:
                proc.terminate()
                proc.wait(timeout=20)
                api.stop()
    text = log_path.read_text(encoding="utf-8")
    secret = TOKEN.split(":")[1]
    assert TOKEN not in text and secret not in text
    assert "Traceback" not in text, text[-3000:]
    lines = [line for line in text.splitlines() if "telegram_unavailable" in line]
    assert len(lines) == 1, text[-3000:]
    assert f"status={trouble}" in lines[0]
    assert len(api.texts(CHAT)) == 1
