"""Several `tracker run` processes on one PostgreSQL share the feeds through leases."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.support.botapi import BotApiServer
from tests.support.feedserver import FeedServer, Item, rss

REPO = Path(__file__).resolve().parents[2]
FEEDS = 300
INTERVAL = 4.0
LEASE = 5.0
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A fresh PostgreSQL schema (these tests need a shared server)."""
    from tests.conftest import PG_URL, _pg_schema_url

    if not PG_URL:
        pytest.skip("cluster tests need TRACKER_TEST_DATABASE_URL")
    gen = _pg_schema_url(PG_URL)
    url = next(gen)
    request.addfinalizer(lambda: next(gen, None))
    return url


EVENTS = [
    "هواوي تكشف عن شريحة ذكاء اصطناعي جديدة لمراكز البيانات",
    "كامبريكون تطلق معالجا جديدا للذكاء الاصطناعي",
    "إس إم آي سي تبدأ الإنتاج الضخم لرقائق متقدمة للذكاء الاصطناعي",
    "بكين تطلب من الشركات التوقف عن شراء رقائق إنفيديا",
    "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين",
    "الولايات المتحدة تضيف شركات رقائق صينية إلى قائمة الكيانات",
    "الصين تستدعي إنفيديا بشأن مخاطر أمنية في رقائق H20",
    "أعلنت إنفيديا أن إيراداتها ارتفعت 50 في المئة خلال الربع الماضي",
]
CHAT = "-100123"


def _config(tmp_path: Path, urls: list[str], api_url: str) -> Path:
    feeds = "".join(f'[[feeds]]\nurl = "{u}"\nname = "feed {i}"\ninterval = "{INTERVAL}s"\n'
                    for i, u in enumerate(urls))
    path = tmp_path / "tracker.toml"
    path.write_text(f"""
[scheduler]
min_interval = "1s"
tick = "0.5s"
lease = "{LEASE}s"
# a killed sender's claimed alerts come back after this (the default 10 minutes is longer
# than the test; 8 alerts to one group at 20 a minute fit well inside it)
outbox_lease = "30s"
max_concurrent_feeds = 100
[health]
enabled = false
[logging]
level = "INFO"
[telegram]
api_url = "{api_url}"
overall_per_second = 100
[[watchlists]]
name = "all"
events = []
entities = []
chats = ["{CHAT}"]
[classifier]
taxonomy = "{REPO / 'config' / 'taxonomy.toml'}"
entities = "{REPO / 'config' / 'entities.toml'}"
{feeds}""", encoding="utf-8")
    return path


def _start(cfg: Path, db: str, tmp_path: Path, n: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TRACKER_DATABASE_URL": db,
           "TRACKER_TELEGRAM_TOKEN": "123:cluster"}
    with (tmp_path / f"p{n}.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "tracker", "run", "--config", str(cfg)],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for(probe: Callable[[], Any], seconds: float) -> Any:
    """``probe()`` once it is truthy, or its last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (found := probe()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def _all_sent(pg_url: str) -> bool:
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            states = conn.execute(text(
                "SELECT state FROM outbox WHERE kind = 'alert'")).scalars().all()
    finally:
        engine.dispose()
    return bool(states) and all(s == "sent" for s in states)


def test_three_processes_poll_each_feed_once_per_interval_and_survive_a_kill(
    tmp_path: Path, pg_url: str
) -> None:
    """Each feed is polled once per interval across three processes (never twice at once),
    every alert reaches Telegram exactly once, one process runs the bot, and after one
    process is SIGKILLed the others take over its feeds within the lease."""
    body = rss([Item(title="خبر عادي لاختبار التوزيع", link="/n/1", guid="1")])
    hosts = [f"127.0.0.{i}" for i in range(2, 8)]
    now = format_datetime(datetime.now(UTC), usegmt=True)
    with FeedServer(hosts=hosts) as srv, BotApiServer() as api:
        paths = [f"/f{i}.xml" for i in range(FEEDS)]
        for i, p in enumerate(paths):
            news = ([Item(title=EVENTS[i], link=f"/e/{i}", guid=f"e{i}", pub_date=now)]
                    if i < len(EVENTS) else [])
            srv.add(p, rss(news) if news else body, content_type="application/rss+xml")
        cfg = _config(tmp_path, [srv.url(p, host=i % len(hosts)) for i, p in enumerate(paths)],
                      api.base_url + "/bot")
        subprocess.run([sys.executable, "-m", "tracker", "db", "upgrade", "--config", str(cfg)],
                       env={**os.environ, "PYTHONPATH": str(REPO), "TRACKER_DATABASE_URL": pg_url},
                       check=True, capture_output=True, timeout=60)
        procs = [_start(cfg, pg_url, tmp_path, n) for n in range(3)]
        try:
            time.sleep(14)
            leaders_before = _wait_for(lambda: [
                n for n in range(3)
                if "telegram_bot_started" in (tmp_path / f"p{n}.log").read_text()], 30)
            procs[0].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            procs[0].wait(timeout=10)
            time.sleep(LEASE + 2 * INTERVAL + 4)
            # the killed process may have held an alert's claim: the others send it once
            # that claim runs out (on a loaded machine, later than the feeds' lease)
            _wait_for(lambda: _all_sent(pg_url), 60)
            end = time.monotonic()
        finally:
            for p in procs[1:]:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)
        requests = list(srv.requests)
        delivered = api.sent(CHAT)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT event_id, state FROM outbox WHERE kind = 'alert'")).all()
    engine.dispose()
    assert len(leaders_before) == 1, f"bot started in {leaders_before}"
    assert len(rows) >= len(EVENTS) - 1 and all(state == "sent" for _, state in rows)
    assert len(delivered) == len(rows), "an alert was lost or sent twice"
    by_path: dict[str, list[float]] = {}
    for r in requests:
        by_path.setdefault(r.path, []).append(r.at)
    assert set(by_path) == set(paths), "some feeds were never polled"
    too_close = []
    for p, times in by_path.items():
        times.sort()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        too_close += [(p, g) for g in gaps if g < INTERVAL * 0.9]
        assert any(t > killed_at + LEASE for t in times), f"{p} not polled after the kill"
    assert too_close == [], f"polled twice within an interval: {too_close[:5]}"
    polls = sum(len(t) for t in by_path.values())
    assert polls >= FEEDS * 4, "the cluster polled far less than once per interval"
    survivors = [(tmp_path / f"p{n}.log").read_text() for n in (1, 2)]
    assert all("Traceback" not in log for log in survivors)
    assert end > killed_at
