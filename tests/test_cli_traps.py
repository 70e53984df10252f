"""The CLI without traps, as a new user meets it: real processes, real files, one test per
trap of issue 13."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.support.feedserver import FeedServer, Item, rss

REPO = Path(__file__).resolve().parents[1]
TAXONOMY = REPO / "config" / "taxonomy.toml"
ENTITIES = REPO / "config" / "entities.toml"
PERMIT = "واشنطن تمنح إنفيديا تراخيص لتصدير رقائق H20 إلى الصين"
MARKUP = "[/b] هواوي تبدأ الإنتاج الضخم لرقائق [bold]أسيند 910C"


def tracker(*args: str, cwd: Path, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})}
    if "TRACKER_DATABASE_URL" not in (env or {}):
        full.pop("TRACKER_DATABASE_URL", None)
    full.pop("TRACKER_TELEGRAM_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=full)


def write_config(folder: Path, body: str = "", feeds: str = "", watch: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wl = ('\n[[watchlists]]\nname = "all"\nchats = ["console"]\n' if watch else "")
    path = folder / "tracker.toml"
    path.write_text(f'[database]\nurl = "sqlite:///state/tracker.db"\n[classifier]\n'
                    f'taxonomy = "{TAXONOMY}"\nentities = "{ENTITIES}"\n{body}\n{feeds}{wl}',
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A config whose database holds one poll of a feed (a permit for Nvidia, a Huawei item
    with rich markup in its title), polled from another working folder."""
    root = tmp_path_factory.mktemp("polled")
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    with FeedServer() as srv:
        srv.add("/f.xml", rss([Item(title=PERMIT, link="/n/1", guid="1", pub_date=when),
                               Item(title=MARKUP, link="/n/2", guid="2", pub_date=when)]),
                content_type="application/rss+xml")
        feed = f'[[feeds]]\nurl = "{srv.url("/f.xml")}"\nname = "outlet [red]x"\n'
        cfg = write_config(root / "etc", feeds=feed)
        elsewhere = root / "elsewhere"
        elsewhere.mkdir()
        done = tracker("poll", "--once", "--config", str(cfg), cwd=elsewhere)
        assert done.returncode == 0, done.stderr
        yield cfg, srv.url("/n/1")


def _one_line(text: str) -> bool:
    return len([ln for ln in text.strip().splitlines() if ln.strip()]) == 1


def test_version_and_short_help(tmp_path: Path) -> None:
    """--version prints the version; -h is --help on the app and on a command."""
    v = tracker("--version", cwd=tmp_path)
    assert v.returncode == 0 and v.stdout.strip() == "tracker 0.1.0"
    h = tracker("-h", cwd=tmp_path)
    assert h.returncode == 0 and "timeline" in h.stdout and "why" in h.stdout
    sub = tracker("timeline", "-h", cwd=tmp_path)
    assert sub.returncode == 0 and "--entity" in sub.stdout


def test_sqlite_path_is_relative_to_the_config_file(polled: tuple[Path, str]) -> None:
    """The poll ran from another folder, yet the database sits beside the config file."""
    cfg, _ = polled
    assert (cfg.parent / "state" / "tracker.db").is_file()
    assert not (cfg.parent.parent / "elsewhere" / "state").exists()


@pytest.mark.parametrize(("option", "value", "listed"), [
    ("--type", "export_permits", "export_permit"),
    ("--status", "confirmd", "confirmed"),
    ("--lang", "fr", "ar, en"),
    ("--entity", "Nvidiaa", "nvidia"),
])
def test_unknown_filter_values_are_refused_with_the_choices(
    polled: tuple[Path, str], option: str, value: str, listed: str
) -> None:
    """A misspelt filter exits 2 and lists what it could have been, not an empty result."""
    cfg, _ = polled
    r = tracker("timeline", option, value, "--config", str(cfg), cwd=cfg.parent)
    assert r.returncode == 2
    assert value in r.stderr and listed in r.stderr


@pytest.mark.parametrize("name", ["Nvidia", "إنفيديا", "انفيديا", "nvidia"])
def test_entity_names_resolve_through_the_gazetteer(polled: tuple[Path, str], name: str) -> None:
    """--entity takes any spelling the gazetteer knows."""
    cfg, _ = polled
    r = tracker("timeline", "--entity", name, "--json", "--config", str(cfg), cwd=cfg.parent)
    assert r.returncode == 0, r.stderr
    assert "H20" in r.stdout and "هواوي" not in r.stdout


def test_rich_markup_in_feed_strings_is_printed_as_text(polled: tuple[Path, str]) -> None:
    """A title with [/b] and [bold] neither crashes the table nor loses its brackets."""
    cfg, _ = polled
    r = tracker("timeline", "--config", str(cfg), cwd=cfg.parent)
    assert r.returncode == 0, r.stderr
    assert "[/b]" in r.stdout and "[bold]" in r.stdout


def test_bare_number_duration_names_file_and_key(tmp_path: Path) -> None:
    """max_age = 48 is refused (exit 2) naming the file and alerts.max_age."""
    cfg = write_config(tmp_path, "[alerts]\nmax_age = 48\n")
    r = tracker("check-config", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 2
    assert str(cfg) in r.stderr and "alerts.max_age" in r.stderr and "unit" in r.stderr


def test_check_config_warns_about_a_config_that_can_never_alert(tmp_path: Path) -> None:
    """No watchlists and no Telegram token: "configuration OK" comes with a warning."""
    cfg = write_config(tmp_path, watch=False)
    r = tracker("check-config", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 0
    assert "never alert" in r.stdout and "warning" in r.stdout
    good = write_config(tmp_path / "ok", feeds='[[feeds]]\nurl = "https://a.example/f"\n')
    ok = tracker("check-config", "--config", str(good), cwd=tmp_path)
    assert ok.returncode == 0 and "warning" not in ok.stdout


def test_database_url_problems_are_one_line_errors(tmp_path: Path) -> None:
    """mysql://, garbage and an unreachable PostgreSQL each give one line and exit 2/2/1."""
    mysql = write_config(tmp_path / "m", '')
    text = mysql.read_text(encoding="utf-8").replace("sqlite:///state/tracker.db",
                                                     "mysql://u@127.0.0.1/db")
    mysql.write_text(text, encoding="utf-8")
    r = tracker("db", "upgrade", "--config", str(mysql), cwd=tmp_path)
    assert r.returncode == 2 and _one_line(r.stderr) and "unsupported database" in r.stderr
    plain = write_config(tmp_path / "p")
    g = tracker("check-config", "--config", str(plain), cwd=tmp_path,
                env={"TRACKER_DATABASE_URL": "garbage"})
    assert g.returncode == 2 and _one_line(g.stderr)
    assert "TRACKER_DATABASE_URL" in g.stderr and "not a database URL" in g.stderr
    down = tracker("db", "upgrade", "--config", str(plain), cwd=tmp_path,
                   env={"TRACKER_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"})
    assert down.returncode == 1 and _one_line(down.stderr), down.stderr
    assert "cannot connect" in down.stderr and "Traceback" not in down.stderr


def test_output_path_problems_are_one_line_errors(polled: tuple[Path, str],
                                                  tmp_path: Path) -> None:
    """feeds export and export into a missing folder: one line, exit 2, nothing written."""
    cfg, _ = polled
    target = tmp_path / "missing" / "dir" / "f.opml"
    r = tracker("feeds", "export", "-o", str(target), "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 2 and _one_line(r.stderr) and "does not exist" in r.stderr
    e = tracker("export", "--format", "md", "-o", str(tmp_path / "nope" / "w.md"),
                "--config", str(cfg), cwd=tmp_path)
    assert e.returncode == 2 and _one_line(e.stderr) and not target.parent.exists()


def test_empty_export_names_the_weeks_that_hold_events(polled: tuple[Path, str]) -> None:
    """The default (last complete) week is empty after a first poll: the hint names the
    current week, which holds the events."""
    cfg, _ = polled
    r = tracker("export", "--config", str(cfg), cwd=cfg.parent)
    assert r.returncode == 0
    now = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Riyadh"))
    year, week, _ = now.isocalendar()
    assert "weeks with events" in r.stderr and f"{year}-W{week:02d}" in r.stderr


def test_why_explains_an_item_by_id_or_url(polled: tuple[Path, str]) -> None:
    """tracker why prints the item's events, watchlists and the alert decision."""
    cfg, url = polled
    by_url = tracker("why", url, "--config", str(cfg), cwd=cfg.parent)
    assert by_url.returncode == 0, by_url.stderr
    assert "alerted: console" in by_url.stdout and "watchlists matched: all" in by_url.stdout
    by_id = tracker("why", "1", "--config", str(cfg), cwd=cfg.parent)
    assert by_id.returncode == 0 and "H20" in by_id.stdout
    missing = tracker("why", "999", "--config", str(cfg), cwd=cfg.parent)
    assert missing.returncode == 2 and "no stored item" in missing.stderr


def test_items_search_finds_variant_spellings(polled: tuple[Path, str]) -> None:
    """tracker items --search Nvidia finds the item written إنفيديا."""
    cfg, _ = polled
    found = tracker("items", "--search", "Nvidia", "--config", str(cfg), cwd=cfg.parent)
    assert found.returncode == 0, found.stderr
    assert "H20" in found.stdout and "هواوي" not in found.stdout
    every = tracker("items", "--config", str(cfg), cwd=cfg.parent)
    assert "H20" in every.stdout and "[/b]" in every.stdout


def test_feeds_prints_the_status_table(polled: tuple[Path, str]) -> None:
    """tracker feeds shows each feed's status, last poll and item count."""
    cfg, _ = polled
    r = tracker("feeds", "--config", str(cfg), cwd=cfg.parent)
    assert r.returncode == 0, r.stderr
    assert "outlet [red]x" in r.stdout and "healthy" in r.stdout and "│ 2 " in r.stdout


def test_web_on_a_public_address_without_credentials_refuses_to_start(tmp_path: Path) -> None:
    """tracker web --host 0.0.0.0 without $TRACKER_WEB_TOKEN exits 2 before listening."""
    cfg = write_config(tmp_path)
    r = tracker("web", "--host", "0.0.0.0", "--port", "1", "--config", str(cfg), cwd=tmp_path,
                env={"TRACKER_WEB_TOKEN": ""})
    assert r.returncode == 2 and _one_line(r.stderr)
    assert "not a loopback address" in r.stderr and "TRACKER_WEB_TOKEN" in r.stderr


def test_classify_and_feeds_test_print_markup_as_text(tmp_path: Path) -> None:
    """`classify` and `feeds test` show [/b] and [word] from feed text, and do not crash."""
    cfg = write_config(tmp_path)
    title = "[/b] إنفيديا تطلق شريحة [جديدة] للذكاء الاصطناعي"
    c = subprocess.run([sys.executable, "-m", "tracker", "classify", "--config", str(cfg)],
                       input=title + "\n", capture_output=True, text=True, timeout=60,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert c.returncode == 0, c.stderr
    assert "[/b]" in c.stdout and "[جديدة]" in c.stdout
    when = format_datetime(datetime.now(UTC), usegmt=True)
    with FeedServer() as srv:
        srv.add("/f.xml", rss([Item(title=title, link="/a", guid="a", pub_date=when)],
                              title="[bold]feed[/bold] title"),
                content_type="application/rss+xml")
        f = tracker("feeds", "test", srv.url("/f.xml"), "--config", str(cfg), cwd=tmp_path)
    assert f.returncode == 0, f.stderr
    assert "[bold]feed[/bold] title" in f.stdout and "[جديدة]" in f.stdout


def test_ics_export_carries_this_installations_id(polled: tuple[Path, str]) -> None:
    """The calendar UIDs end with the installation id stored in the database."""
    import re
    import sqlite3

    cfg, _ = polled
    with sqlite3.connect(cfg.parent / "state" / "tracker.db") as conn:
        installation = conn.execute("select id from installation").fetchone()[0]
    now = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Riyadh"))
    year, week, _ = now.isocalendar()
    r = tracker("export", "--week", f"{year}-W{week:02d}", "--format", "ics",
                "--config", str(cfg), cwd=cfg.parent)
    assert r.returncode == 0, r.stderr
    uids = re.findall(r"^UID:(\S+)", r.stdout, flags=re.M)
    assert uids and all(u.endswith(f"-{installation}@tracker") for u in uids)


def test_run_on_a_public_address_without_credentials_refuses_to_start(tmp_path: Path) -> None:
    """tracker run with [health] host = "0.0.0.0", the desk on and no token exits 2 at once."""
    cfg = write_config(tmp_path, '[health]\nhost = "0.0.0.0"\nport = 1\n')
    r = tracker("run", "--config", str(cfg), cwd=tmp_path, env={"TRACKER_WEB_TOKEN": ""})
    assert r.returncode == 2 and "not a loopback address" in r.stderr
    assert not (tmp_path / "state").exists()  # nothing was opened, polled or served
