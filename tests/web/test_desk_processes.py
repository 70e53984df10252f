"""The desk as a user starts it: `tracker run` serves it beside /healthz and /metrics on the
health port, and `tracker web` serves it on its own; both stop cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx

from tests.support.feedserver import FeedServer, Item, rss
from tests.test_cli import REPO, _daemon_config, _free_port, _wait

TITLE = "إنفيديا تطلق شريحة جديدة للذكاء الاصطناعي"


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    for name in ("TRACKER_DATABASE_URL", "TRACKER_TELEGRAM_TOKEN", "TRACKER_WEB_TOKEN"):
        env.pop(name, None)
    return env


def _feed() -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    return rss([Item(title=TITLE, link="/n/1", guid="1", pub_date=when)])


def _searchable(base: str) -> bool:
    try:
        page = httpx.get(f"{base}/search", params={"q": "Nvidia"}, timeout=5)
    except httpx.TransportError:
        return False
    return page.status_code == 200 and TITLE in re.sub(r"<bdi[^>]*>|</bdi>", "", page.text)


def test_tracker_run_serves_the_desk_with_health_and_metrics(tmp_path: Path) -> None:
    """One port: the timeline page (RTL, with its CSP), search finding the polled item by
    its Latin name, /healthz and /metrics."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with FeedServer() as srv:
        srv.add("/a.xml", _feed())
        _daemon_config(tmp_path, [srv.url("/a.xml")], port)
        log = (tmp_path / "daemon.log").open("w")
        with subprocess.Popen([sys.executable, "-m", "tracker", "run", "--config",
                               str(tmp_path / "tracker.toml")], cwd=tmp_path, env=_env(),
                              stdout=log, stderr=subprocess.STDOUT) as proc:
            try:
                assert _wait(lambda: _searchable(base), timeout=60), \
                    (tmp_path / "daemon.log").read_text()
                page = httpx.get(base + "/", timeout=5)
                assert page.status_code == 200 and 'dir="rtl"' in page.text
                assert "default-src 'none'" in page.headers["content-security-policy"]
                assert httpx.get(base + "/healthz", timeout=5).json()["database"] == "ok"
                assert "tracker_polls_total" in httpx.get(base + "/metrics", timeout=5).text
            finally:
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=20) == 0
        log.close()


def test_tracker_web_serves_the_desk_on_its_own(tmp_path: Path) -> None:
    """`tracker web --port 0` says where it listens; the feeds page and /healthz answer
    there; SIGTERM stops it with exit 0."""
    with FeedServer() as srv:
        srv.add("/a.xml", _feed())
        _daemon_config(tmp_path, [srv.url("/a.xml")], 1)
        cfg = str(tmp_path / "tracker.toml")
        polled = subprocess.run([sys.executable, "-m", "tracker", "poll", "--once", "--config",
                                 cfg], cwd=tmp_path, env=_env(), capture_output=True,
                                text=True, timeout=120)
        assert polled.returncode == 0, polled.stderr
    with subprocess.Popen([sys.executable, "-m", "tracker", "web", "--port", "0", "--config",
                           cfg], cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            found = re.search(r"desk on (http://127\.0\.0\.1:\d+)/", line)
            assert found, line
            base = found.group(1)
            feeds = httpx.get(base + "/feeds", params={"lang": "en"}, timeout=5)
            assert feeds.status_code == 200 and srv.url("/a.xml") in feeds.text
            assert 'data-label="Items">1<' in feeds.text
            assert _searchable(base)
            assert httpx.get(base + "/healthz", timeout=5).status_code == 200
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
