"""Commands load only what they use: help and the timeline build no classifier and import
none of the daemon's parts; the daemon's own imports hold no datasketch or scipy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.store.revision import head_revision

REPO = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
sys.argv = ["tracker", *json.loads(sys.argv[1])]
from tracker.cli import main
try:
    main()
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""

HEAVY = ("ahocorasick", "tracker.classify.engine", "tracker.classify.learned", "httpx",
         "telegram", "tracker.pipeline", "tracker.app", "alembic", "datasketch", "scipy",
         "sklearn", "starlette", "uvicorn", "feedparser", "apscheduler", "numpy")


def _modules(args: list[str], tmp_path: Path) -> set[str]:
    env = {**os.environ, "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    line = done.stdout.rsplit("\nMODULES ", 1)[1]
    return set(json.loads(line))


@pytest.mark.slow
def test_help_and_timeline_import_no_classifier_and_no_daemon_parts(tmp_path: Path) -> None:
    """``tracker --help`` and ``tracker timeline --entity nvidia`` (a migrated store) import
    neither the classifier's automaton or model nor the HTTP, Telegram, web or scheduler
    libraries."""
    _modules(["db", "upgrade"], tmp_path)
    for args in (["--help"], ["timeline", "--entity", "nvidia"]):
        loaded = _modules(args, tmp_path)
        assert "tracker.cli" in loaded
        assert sorted(m for m in HEAVY if m in loaded) == [], args


@pytest.mark.slow
def test_the_timeline_on_a_migrated_sqlite_store_imports_no_sqlalchemy(tmp_path: Path) -> None:
    """``tracker timeline --entity nvidia`` on a migrated SQLite file reads through sqlite3
    alone: neither SQLAlchemy nor SQLModel's table classes are imported (they were most of
    its start-up); on a store not yet migrated it takes the full path and migrates."""
    fresh = _modules(["timeline", "--entity", "nvidia"], tmp_path)
    assert "sqlalchemy" in fresh and "tracker.store.repo" in fresh  # migrated it first
    loaded = _modules(["timeline", "--entity", "nvidia"], tmp_path)
    assert "tracker.store.lite" in loaded
    assert sorted(m for m in ("sqlalchemy", "sqlmodel", "tracker.store.tables",
                              "tracker.store.repo") if m in loaded) == []


@pytest.mark.slow
def test_the_daemon_imports_neither_datasketch_nor_scipy(tmp_path: Path) -> None:
    """Everything ``tracker run`` wires (app, pipeline, near-duplicates, classifier) loads
    without datasketch or scipy."""
    probe = ("import sys, tracker.daemon, tracker.app, tracker.pipeline, tracker.neardup, "
             "tracker.classify.learned; print(sorted(m.split('.')[0] for m in sys.modules "
             "if m.split('.')[0] in ('datasketch', 'scipy')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_daemon_without_a_telegram_token_imports_no_telegram(tmp_path: Path) -> None:
    """``open_app`` with no bot token (alerts to the console) and the daemon module load
    neither python-telegram-bot nor our Telegram modules; with a token they are imported
    where the sender is built."""
    probe = """
import asyncio, io, json, sys
from datetime import UTC, datetime
from pathlib import Path
import tracker.daemon
from tracker.app import open_app
from tracker.config import parse_config

raw = {"database": {"url": "sqlite:///" + sys.argv[1]}, "health": {"enabled": False},
       "feeds": [{"url": "http://127.0.0.1:9/feed.xml", "name": "one"}]}
config = parse_config(raw, Path("config/tracker.toml"), env={})

async def go():
    async with open_app(config, lambda: datetime.now(UTC), io.StringIO()) as app:
        assert app.telegram_link is None
print(json.dumps(asyncio.run(go()) or sorted(sys.modules)))
"""
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "t.db")], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "tracker.app" in loaded and "tracker.pipeline" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] == "telegram"
                  or m.startswith("tracker.telegram.")) == []


def test_the_head_revision_read_from_the_files_is_alembics() -> None:
    """The quick "already migrated" check compares against the head Alembic itself finds."""
    from alembic.script import ScriptDirectory

    from tracker.store.revision import MIGRATIONS

    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert heads == [head_revision()]
