"""`tracker poll --once` as cron runs it: a server's Retry-After is honoured across runs
unless --force, a 410 feed is retired, and `tracker feeds` tells the operator about waits,
retirements and permanent moves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.configs import write_config
from tests.support.feedserver import FeedServer, Item, Response, rss

REPO = Path(__file__).resolve().parents[1]


def _tracker(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}
    env.pop("TRACKER_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env)


def test_retry_after_survives_between_runs_unless_forced(tmp_path: Path) -> None:
    """A 429's or a 503's Retry-After keeps the next `poll --once` away (neither counts as a
    failure); --force polls them anyway."""
    feed = rss([Item("خبر عن الرقائق", link="/n/1", guid="n1")])
    with FeedServer() as srv:
        srv.script("/busy.xml", [Response(status=429, headers={"Retry-After": "3600"}),
                                 Response(body=feed)])
        srv.script("/down.xml", [Response(status=503, headers={"Retry-After": "3600"}),
                                 Response(body=feed)])
        srv.add("/calm.xml", feed)
        srv.add("/gone.xml", b"gone", status=410)
        srv.add("/new.xml", feed)
        srv.add_redirect("/old.xml", "/new.xml", status=308)
        feeds = {"busy": srv.url("/busy.xml"), "down": srv.url("/down.xml"),
                 "calm": srv.url("/calm.xml"), "gone": srv.url("/gone.xml"),
                 "moved": srv.url("/old.xml")}
        cfg = write_config(tmp_path, feeds, watch_all=False)
        first = _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert "throttled" in first.stderr and "0 feeds failed" in first.stderr
        second = _tracker("poll", "--once", "--config", str(cfg), cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert "server asked to wait until" in second.stderr
        assert second.stderr.count("server asked to wait until") == 2
        assert len(srv.requests_for("/busy.xml")) == 1  # the wait was honoured
        assert len(srv.requests_for("/down.xml")) == 1
        assert len(srv.requests_for("/calm.xml")) == 2  # every other feed is still polled
        assert len(srv.requests_for("/gone.xml")) == 1  # retired: never polled again
        listing = _tracker("feeds", "--config", str(cfg), cwd=tmp_path)
        assert listing.returncode == 0, listing.stderr
        assert "waiting until" in listing.stdout
        assert "(410 Gone)" in listing.stdout and "retired" in listing.stdout
        assert f"→ {srv.url('/new.xml')} (moved permanently)" in listing.stdout
        assert len(srv.requests_for("/old.xml")) == 1  # the move was adopted
        forced = _tracker("poll", "--once", "--force", "--config", str(cfg), cwd=tmp_path)
        assert forced.returncode == 0, forced.stderr
        assert len(srv.requests_for("/busy.xml")) == 2
        assert len(srv.requests_for("/down.xml")) == 2
