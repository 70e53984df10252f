"""Config files: the shipped ones load, and every mistake names the file, key and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tracker.config import SETTINGS, load_config, parse_config
from tracker.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "config" / "tracker.toml"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_config_loads_with_at_least_twelve_feeds() -> None:
    """The shipped config is valid and watches at least twelve Arabic feeds."""
    cfg = load_config(SHIPPED, env={})
    assert len(cfg.feeds) >= 12
    assert all(f.url.startswith("https://") for f in cfg.feeds)
    assert cfg.database_url == f"sqlite:///{(SHIPPED.parent.parent / 'data' / 'tracker.db')}"


def test_shipped_config_documents_every_setting() -> None:
    """Every declared setting appears, under its section, in the shipped example config."""
    text = SHIPPED.read_text(encoding="utf-8")
    for s in SETTINGS:
        section = text.split(f"\n[{s.section}]\n", 1)
        assert len(section) == 2, f"[{s.section}] missing from {SHIPPED.name}"
        body = "\n" + section[1].split("\n[", 1)[0]
        assert f"\n{s.key} =" in body, f"{s.section}.{s.key} missing from {SHIPPED.name}"


def test_environment_overrides_database_url() -> None:
    """TRACKER_DATABASE_URL replaces the file's database URL and says so."""
    cfg = load_config(SHIPPED, env={"TRACKER_DATABASE_URL": "postgresql://x@h/db"})
    assert cfg.database_url == "postgresql://x@h/db"
    assert cfg.sources[("database", "url")] == "env TRACKER_DATABASE_URL"


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ("[scheduler]\ndefault_interval = 'soon'\n", "scheduler.default_interval", "duration"),
        ("[scheduler]\nintervall = '5m'\n", "scheduler.intervall", "unknown key"),
        ("[schedular]\n", "schedular", "unknown section"),
        ("[fetch]\nper_host = 0\n", "fetch.per_host", "positive"),
        ("[scheduler]\ntimezone = 'Mars/Olympus'\n", "scheduler.timezone", "time zone"),
        ("[[feeds]]\nname = 'x'\n", "feeds[0]", "non-empty string"),
        ("[[feeds]]\nurl = 'ftp://x/feed'\n", "feeds[0]", "http(s)://"),
        ("[[feeds]]\nurl = 'https://a/f'\n[[feeds]]\nurl = 'https://a/f'\n", "feeds[1].url",
         "duplicate"),
        ("[[feeds]]\nurl = 'https://a/f'\nevery = '5m'\n", "feeds[0].every", "unknown key"),
        ("[[watchlists]]\nname = 'w'\nevents = []\n", "watchlists[0].chats", "at least one"),
        ("[digest]\nweekday = 'someday'\n", "digest.weekday", "weekday"),
        # a bare number is not a duration: 48 meant hours, and 48 seconds silenced alerts
        ("[alerts]\nmax_age = 48\n", "alerts.max_age", "needs a unit"),
        ("[alerts]\nmax_age = '48'\n", "alerts.max_age", "needs a unit"),
        ("[[feeds]]\nurl = 'https://a/f'\ninterval = 900\n", "feeds[0].interval",
         "needs a unit"),
        ("[database]\nurl = 'mysql://u@h/db'\n", "database.url", "unsupported database"),
        ("[database]\nurl = 'garbage'\n", "database.url", "not a database URL"),
    ],
)
def test_bad_values_name_file_key_and_problem(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    """Each kind of mistake raises ConfigError with the file, the key and the problem."""
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.file == str(path)
    assert info.value.key == key
    assert problem in info.value.problem


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    """A TOML syntax error is reported against the file, with the parser's line."""
    path = _write(tmp_path, "[database\nurl = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert info.value.file == str(path) and "line 1" in info.value.problem


def test_durations_with_a_unit_are_read_in_that_unit(tmp_path: Path) -> None:
    """'48h' is 48 hours, '90s' 90 seconds, '2d' two days."""
    path = _write(tmp_path, "[alerts]\nmax_age = '48h'\n[scheduler]\ntick = '90s'\n"
                             "lease = '2d'\n")
    cfg = load_config(path, env={})
    assert cfg.get("alerts", "max_age").total_seconds() == 48 * 3600
    assert cfg.get("scheduler", "tick").total_seconds() == 90
    assert cfg.get("scheduler", "lease").total_seconds() == 2 * 86400


def test_sqlite_path_is_relative_to_the_config_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative SQLite path in the file names the same database from any working folder;
    one in TRACKER_DATABASE_URL is relative to the working folder."""
    conf = tmp_path / "etc"
    conf.mkdir()
    path = _write(conf, "[database]\nurl = 'sqlite:///state/t.db'\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_config(path, env={}).database_url == f"sqlite:///{conf / 'state' / 't.db'}"
    from_env = load_config(path, env={"TRACKER_DATABASE_URL": "sqlite:///x.db"})
    assert from_env.database_url == f"sqlite:///{elsewhere / 'x.db'}"


def test_garbage_database_url_in_the_environment_names_the_variable(tmp_path: Path) -> None:
    """TRACKER_DATABASE_URL=garbage fails at load, naming the variable, not later."""
    path = _write(tmp_path, "")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={"TRACKER_DATABASE_URL": "garbage"})
    assert info.value.key == "TRACKER_DATABASE_URL (environment)"
    assert "not a database URL" in info.value.problem


def test_feed_interval_is_raised_to_the_minimum() -> None:
    """A feed asking to be polled more often than scheduler.min_interval gets the minimum."""
    raw = {"scheduler": {"min_interval": "5m"},
           "feeds": [{"url": "https://a/f", "interval": "10s"}]}
    cfg = parse_config(raw, Path("x.toml"), env={})
    assert cfg.feeds[0].interval.total_seconds() == 300


def test_cli_exits_2_with_a_clear_message_on_a_bad_config(tmp_path: Path) -> None:
    """``tracker check-config`` on a bad file prints file, key and problem and exits 2."""
    path = _write(tmp_path, "[alerts]\nmax_age = -5\n")
    proc = subprocess.run([sys.executable, "-m", "tracker", "check-config", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert str(path) in proc.stderr.replace("\n", "") and "alerts.max_age" in proc.stderr
