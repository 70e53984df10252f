"""Settings: declared once, loaded from TOML, validated at start-up.

Order of decisions in :func:`load_config`:

1. the path: ``--config`` argument, else ``TRACKER_CONFIG``, else ``config/tracker.toml``;
2. the file is read and parsed as TOML (a syntax error names the line);
3. every key of every ``[section]`` is checked against :data:`SETTINGS` (unknown keys are
   errors, so a typo never silently falls back to a default), converted and validated;
4. ``[[feeds]]`` and ``[[watchlists]]`` are checked entry by entry;
5. environment overrides apply (``TRACKER_DATABASE_URL``);
6. relative paths (taxonomy, entities, the SQLite file of ``database.url``) resolve against
   the config file's folder, so a command run from elsewhere opens the same database; a
   relative SQLite path in ``TRACKER_DATABASE_URL`` is relative to the working directory.
   The database URL must parse and name SQLite or PostgreSQL.

Every problem raises :class:`~tracker.errors.ConfigError` naming the file, the key and the
problem. Nothing here reads the clock or the network.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.errors import ConfigError
from tracker.model import Watchlist

DEFAULT_CONFIG = Path("config/tracker.toml")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_BARE_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_HINT = "'90s', '15m', '48h', '2d' or '1w'"
DATABASE_BACKENDS = ("sqlite", "postgresql")


class _Invalid(ValueError):
    """A value failed conversion; the message is the problem."""


def _duration(value: Any) -> timedelta:
    """A duration with its unit. A bare number is refused: ``max_age = 48`` meant hours to
    the person who wrote it, and reading it as 48 seconds silenced every alert."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise _Invalid(f"expected a duration such as {_DURATION_HINT}")
    elif isinstance(value, int | float) or (isinstance(value, str)
                                            and _BARE_NUMBER.match(value)):
        raise _Invalid(f"a duration needs a unit: write {str(value).strip()!r} as e.g. "
                       f"'{str(value).strip()}s' or '{str(value).strip()}h' "
                       f"(s, m, h, d, w), got the bare number {value!r}")
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise _Invalid(f"expected a duration such as {_DURATION_HINT}, got {value!r}")
    if seconds <= 0:
        raise _Invalid("must be positive")
    return timedelta(seconds=seconds)


def parse_duration(value: str) -> timedelta:
    """'90s', '15m', '48h', '30d', '2w' as a timedelta; ValueError with the problem."""
    return _duration(value)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _Invalid(f"expected a positive whole number, got {value!r}")
    return value


def _positive_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _Invalid(f"expected a positive number, got {value!r}")
    return float(value)


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"expected a non-empty string, got {value!r}")
    return value.strip()


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {value!r}")
    return value


def _timezone(value: Any) -> str:
    name = _string(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _Invalid(f"unknown time zone {name!r}") from exc
    return name


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise _Invalid(f"expected one of {', '.join(options)}, got {value!r}")
        return str(value)

    return check


def _string_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise _Invalid(f"expected a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 65535:
        raise _Invalid(f"expected a port from 1 to 65535, got {value!r}")
    return value


def _weekday(value: Any) -> int:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    if isinstance(value, str) and value[:3].lower() in days:
        return days.index(value[:3].lower())
    raise _Invalid(f"expected a weekday such as 'mon', got {value!r}")


def _hour(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        raise _Invalid(f"expected an hour from 0 to 23, got {value!r}")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: where it lives, its default (as written in TOML), what it means."""

    section: str
    key: str
    default: Any
    help: str
    convert: Callable[[Any], Any]


SETTINGS: tuple[Setting, ...] = (
    Setting("database", "url", "sqlite:///data/tracker.db",
            "SQLAlchemy URL; SQLite file (a relative path is relative to this config file) or "
            "postgresql+psycopg://…; TRACKER_DATABASE_URL overrides", _string),
    Setting("scheduler", "default_interval", "15m", "poll interval of a feed that sets none",
            _duration),
    Setting("scheduler", "min_interval", "2m", "shortest interval any feed is polled at",
            _duration),
    Setting("scheduler", "tick", "5s",
            "how often the scheduler looks for feeds that are due", _duration),
    Setting("scheduler", "max_concurrent_feeds", 50, "feeds fetched at the same time",
            _positive_int),
    Setting("scheduler", "claim_batch", 10,
            "feeds leased per claim; claimed again as slots free, so processes share a cycle",
            _positive_int),
    Setting("scheduler", "outbox_interval", "5s", "how often the outbox is drained",
            _duration),
    Setting("scheduler", "timezone", "Asia/Riyadh",
            "time zone for weeks, digests and naive feed dates", _timezone),
    Setting("fetch", "connect_timeout", 10, "seconds to connect", _positive_float),
    Setting("fetch", "read_timeout", 30, "seconds to wait for response data", _positive_float),
    Setting("fetch", "max_body_bytes", 5_000_000, "largest feed body accepted",
            _positive_int),
    Setting("fetch", "per_host", 2, "concurrent requests to one host", _positive_int),
    Setting("fetch", "total_timeout", 60,
            "seconds one whole request may take (a slow-drip server is cut off then)",
            _positive_float),
    Setting("fetch", "max_items", 500, "items read from one feed body; the rest are ignored",
            _positive_int),
    Setting("fetch", "max_title_chars", 1000, "longest title kept (longer ones are cut)",
            _positive_int),
    Setting("fetch", "max_text_chars", 50_000,
            "longest summary or content kept (longer ones are cut)", _positive_int),
    Setting("fetch", "user_agent", "tracker/0.1 (+https://github.com/tracker-ai-chips)",
            "User-Agent header sent to feeds", _string),
    Setting("alerts", "max_age", "48h",
            "items first seen later than this after publication go onto the timeline silently",
            _duration),
    Setting("alerts", "console", True,
            "print alerts on the console while no Telegram token is set", _bool),
    Setting("classifier", "taxonomy", "taxonomy.toml",
            "event taxonomy file (relative to this config file)", _string),
    Setting("classifier", "entities", "entities.toml",
            "entity gazetteer file (relative to this config file)", _string),
    Setting("classifier", "extra_entities", "",
            "optional extra gazetteer (operator watch terms), relative to this config file",
            lambda v: "" if v == "" else _string(v)),
    Setting("classifier", "model", "shipped",
            "type model: \"shipped\" (the one in the package), \"rules\" (the rule engine "
            "alone) or a file written by `tracker train` (relative to this config file)",
            _string),
    Setting("telegram", "api_url", "https://api.telegram.org/bot",
            "Bot API base URL (any compatible server, e.g. a self-hosted one)", _string),
    Setting("telegram", "token_env", "TRACKER_TELEGRAM_TOKEN",
            "name of the environment variable holding the bot token", _string),
    Setting("telegram", "admins", [], "chat ids of operators allowed admin commands",
            _string_list),
    Setting("telegram", "overall_per_second", 30, "messages per second to all chats together",
            _positive_float),
    Setting("telegram", "group_per_minute", 20, "messages per minute to one group or channel",
            _positive_float),
    Setting("telegram", "per_chat_interval", 1.0, "seconds between two messages to one chat",
            _positive_float),
    Setting("telegram", "transport", "lean",
            "lean (tracker's keep-alive HTTP/1.1 client) or httpx (proxies, HTTP/2)",
            _choice("lean", "httpx")),
    Setting("telegram", "webhook_url", "",
            "public HTTPS base URL for webhook mode; empty: long polling",
            lambda v: "" if v == "" else _string(v)),
    Setting("telegram", "webhook_listen", "127.0.0.1", "address the webhook server binds",
            _string),
    Setting("telegram", "webhook_port", 8443, "port the webhook server binds", _port),
    Setting("telegram", "feedback", "admins",
            "who gets 👍/👎/another-type buttons under alerts: admins, or subscribers too",
            _choice("admins", "subscribers")),
    Setting("telegram", "retry_first", "5s",
            "first retry after the Bot API was unreachable or refused the token", _duration),
    Setting("telegram", "retry_max", "5m", "longest wait between two such retries", _duration),
    Setting("digest", "weekday", "mon", "weekday of the weekly digest", _weekday),
    Setting("digest", "hour", 8, "hour (scheduler time zone) of the weekly digest", _hour),
    Setting("logging", "level", "INFO", "log level",
            _choice("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("logging", "format", "text", "text (readable) or json", _choice("text", "json")),
    Setting("health", "enabled", True, "serve /healthz and /metrics", _bool),
    Setting("health", "host", "127.0.0.1",
            "address of /healthz and /metrics; 0.0.0.0 in a container scraped from outside",
            _string),
    Setting("health", "port", 9464, "port of /healthz and /metrics", _port),
    Setting("health", "max_cycle_age", "10m",
            "/healthz reports the scheduler stalled, and the systemd watchdog stops pinging, "
            "when no poll cycle finished for this long", _duration),
    Setting("health", "feed_failures", 3,
            "consecutive failed polls before a feed is reported failing", _positive_int),
    Setting("scheduler", "lease", "10m",
            "how long a process holds a claimed feed or message before others may take it",
            _duration),
    Setting("scheduler", "outbox_lease", "10m",
            "how long a process holds claimed messages; longer than sending a batch takes",
            _duration),
    Setting("scheduler", "max_interval", "6h",
            "longest interval adaptive polling may stretch a quiet feed to", _duration),
    Setting("web", "enabled", True,
            "serve the web desk (timeline, search, items, feeds) beside /healthz and /metrics "
            "on [health] host and port", _bool),
    Setting("web", "token_env", "TRACKER_WEB_TOKEN",
            "environment variable holding the desk's access token (Bearer, or the password of "
            "basic auth); required when [health] host is not a loopback address", _string),
    Setting("web", "per_page", 50, "events or items per desk page", _positive_int),
    Setting("scheduler", "heartbeat", "5m",
            "while no feed is due, one idle log line per this period", _duration),
    Setting("demo", "replay_over", "3m",
            "replay:// feeds reveal their items evenly over this period", _duration),
)
_BY_SECTION: dict[str, dict[str, Setting]] = {}
for _s in SETTINGS:
    _BY_SECTION.setdefault(_s.section, {})[_s.key] = _s


@dataclass(frozen=True)
class FeedConfig:
    """One ``[[feeds]]`` entry."""

    url: str
    name: str
    interval: timedelta
    timezone: str | None = None


@dataclass(frozen=True)
class Config:
    """The resolved configuration."""

    path: Path
    values: Mapping[tuple[str, str], Any]
    feeds: tuple[FeedConfig, ...] = ()
    watchlists: tuple[Watchlist, ...] = ()
    sources: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Any:
        return self.values[(section, key)]

    @property
    def database_url(self) -> str:
        return str(self.get("database", "url"))

    def config_file(self, key: str) -> Path:
        """A file named in ``[classifier]``, resolved against the config file's folder."""
        return (self.path.parent / str(self.get("classifier", key))).resolve()


def resolve_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    if explicit:
        return Path(explicit)
    if env.get("TRACKER_CONFIG"):
        return Path(env["TRACKER_CONFIG"])
    return DEFAULT_CONFIG


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, validate and resolve the config file at ``path`` (see the module docstring)."""
    env = os.environ if env is None else env
    name = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(name, "", "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, "", f"cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "", f"not valid TOML: {exc}") from exc
    return parse_config(raw, path, env)


def parse_config(raw: Mapping[str, Any], path: Path, env: Mapping[str, str]) -> Config:
    """Validate an already parsed TOML document (see :func:`load_config`)."""
    name = str(path)
    values: dict[tuple[str, str], Any] = {}
    sources: dict[tuple[str, str], str] = {}
    for section, table in raw.items():
        if section in ("feeds", "watchlists"):
            continue
        if section not in _BY_SECTION:
            known = ", ".join(sorted([*_BY_SECTION, "feeds", "watchlists"]))
            raise ConfigError(name, section, f"unknown section (known: {known})")
        if not isinstance(table, dict):
            raise ConfigError(name, section, "expected a [section] table")
        for key in table:
            if key not in _BY_SECTION[section]:
                known = ", ".join(_BY_SECTION[section])
                raise ConfigError(name, f"{section}.{key}", f"unknown key (known: {known})")
    for setting in SETTINGS:
        table = raw.get(setting.section, {})
        given = setting.key in table
        value = table.get(setting.key, setting.default)
        try:
            values[(setting.section, setting.key)] = setting.convert(value)
        except _Invalid as exc:
            raise ConfigError(name, f"{setting.section}.{setting.key}", str(exc)) from exc
        sources[(setting.section, setting.key)] = "file" if given else "default"
    if env.get("TRACKER_DATABASE_URL"):
        values[("database", "url")] = env["TRACKER_DATABASE_URL"]
        sources[("database", "url")] = "env TRACKER_DATABASE_URL"
        where = "TRACKER_DATABASE_URL (environment)"
        values[("database", "url")] = check_database_url(env["TRACKER_DATABASE_URL"], name,
                                                         where, Path.cwd())
    else:
        values[("database", "url")] = check_database_url(values[("database", "url")], name,
                                                         "database.url", path.parent)
    default_interval: timedelta = values[("scheduler", "default_interval")]
    min_interval: timedelta = values[("scheduler", "min_interval")]
    feeds = _feeds(raw.get("feeds", []), name, default_interval, min_interval)
    watchlists = _watchlists(raw.get("watchlists", []), name)
    return Config(path=path, values=values, feeds=feeds, watchlists=watchlists, sources=sources)


_PLAIN_SQLITE = re.compile(r"sqlite:///([A-Za-z0-9_./~+-]+)")


def _plain_sqlite(url: str, base: Path) -> str | None:
    """``sqlite:///path`` with a path of plain characters, made absolute as below, without
    importing SQLAlchemy (every command checks the URL); None for any other URL."""
    found = _PLAIN_SQLITE.fullmatch(url)
    if found is None:
        return None
    target = Path(found[1]).expanduser()
    return "sqlite:///" + str(target if target.is_absolute() else (base / target).resolve())


def check_database_url(url: str, file: str, key: str, base: Path) -> str:
    """``url`` if tracker can use it, a relative SQLite path made absolute against ``base``
    (the config file's folder, or the working directory for the environment variable);
    anything else a :class:`ConfigError` naming the file and key."""
    plain = _plain_sqlite(url, base)
    return plain if plain is not None else _check_parsed_url(url, file, key, base)


def _check_parsed_url(url: str, file: str, key: str, base: Path) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    checked = url
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            checked = "postgresql+psycopg://" + url[len(prefix):]
    try:
        parsed = make_url(checked)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(file, key, f"not a database URL: {url!r} (expected "
                          "sqlite:///path/to/file.db or postgresql://user@host/db)") from exc
    backend = parsed.get_backend_name()
    if backend not in DATABASE_BACKENDS:
        raise ConfigError(file, key, f"unsupported database {backend!r} in {url!r}; tracker "
                          "runs on sqlite:///… or postgresql://…")
    if backend == "postgresql" and parsed.get_driver_name() not in ("psycopg", "postgresql"):
        raise ConfigError(file, key, f"unsupported PostgreSQL driver "
                          f"{parsed.get_driver_name()!r}; use postgresql:// (psycopg 3)")
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            target = Path(database).expanduser()
            if not target.is_absolute():
                target = (base / target).resolve()
            return parsed.set(database=str(target)).render_as_string(hide_password=False)
    return url


def _entries(value: Any, name: str, section: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(name, section, f"expected [[{section}]] tables")
    return value


def _feeds(
    value: Any, name: str, default_interval: timedelta, min_interval: timedelta
) -> tuple[FeedConfig, ...]:
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(_entries(value, name, "feeds")):
        where = f"feeds[{i}]"
        unknown = set(entry) - {"url", "name", "interval", "timezone"}
        if unknown:
            raise ConfigError(name, f"{where}.{sorted(unknown)[0]}",
                              "unknown key (known: url, name, interval, timezone)")
        try:
            url = _string(entry.get("url"))
            if not re.match(r"^(https?|replay)://", url):
                raise _Invalid(f"expected an http(s):// or replay:// URL, got {url!r}")
            feed_name = _string(entry.get("name", url))
        except _Invalid as exc:
            raise ConfigError(name, where, str(exc)) from exc
        try:
            interval = max(_duration(entry.get("interval", default_interval)), min_interval)
        except _Invalid as exc:
            raise ConfigError(name, f"{where}.interval", str(exc)) from exc
        try:
            tz = _timezone(entry["timezone"]) if "timezone" in entry else None
        except _Invalid as exc:
            raise ConfigError(name, f"{where}.timezone", str(exc)) from exc
        if url in seen:
            raise ConfigError(name, f"{where}.url", f"duplicate feed {url}")
        seen.add(url)
        feeds.append(FeedConfig(url=url, name=feed_name, interval=interval, timezone=tz))
    return tuple(feeds)


def _watchlists(value: Any, name: str) -> tuple[Watchlist, ...]:
    lists: list[Watchlist] = []
    for i, entry in enumerate(_entries(value, name, "watchlists")):
        where = f"watchlists[{i}]"
        unknown = set(entry) - {"name", "events", "entities", "chats"}
        if unknown:
            raise ConfigError(name, f"{where}.{sorted(unknown)[0]}",
                              "unknown key (known: name, events, entities, chats)")
        try:
            wl_name = _string(entry.get("name"))
            events = _string_list(entry.get("events", []))
            entities = _string_list(entry.get("entities", []))
            chats = _string_list(entry.get("chats", []))
        except _Invalid as exc:
            raise ConfigError(name, where, str(exc)) from exc
        if not chats:
            raise ConfigError(name, f"{where}.chats", "a watchlist needs at least one chat")
        lists.append(Watchlist(wl_name, frozenset(events), frozenset(entities), chats))
    return tuple(lists)


def check_references(config: Config, event_types: set[str], entity_ids: set[str]) -> None:
    """Watchlists may only name event types and entities that the taxonomy/gazetteer know."""
    for i, wl in enumerate(config.watchlists):
        for t in sorted(wl.events - event_types):
            raise ConfigError(str(config.path), f"watchlists[{i}].events",
                              f"unknown event type {t!r} (known: {', '.join(sorted(event_types))})")
        for e in sorted(wl.entities - entity_ids):
            raise ConfigError(str(config.path), f"watchlists[{i}].entities",
                              f"unknown entity {e!r} (not in the gazetteer)")


def describe(config: Config) -> list[tuple[str, str, str, str]]:
    """Rows of (key, value, source, help) for ``tracker check-config``."""
    rows = []
    for s in SETTINGS:
        value = config.get(s.section, s.key)
        if isinstance(value, timedelta):
            shown = f"{int(value.total_seconds())}s"
        elif s.section == "digest" and s.key == "weekday":
            shown = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[value]
        else:
            shown = str(value)
        rows.append((f"{s.section}.{s.key}", shown, config.sources[(s.section, s.key)], s.help))
    return rows
