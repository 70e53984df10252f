"""Settings: declared once, loaded from TOML, validated at start-up.

Order of decisions in :func:`load_config`:

1. the path: ``--config`` argument, else ``TRACKER_CONFIG``, else ``config/tracker.toml``;
2. the file is read and parsed as TOML (a syntax error names the line);
3. every key of every ``[section]`` is checked against :data:`tracker.settings.SETTINGS`
   (unknown keys are errors, so a typo never silently falls back to a default), converted
   and validated;
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError
from tracker.model import Watchlist
from tracker.settings import (
    _BY_SECTION,
    DATABASE_BACKENDS,
    SETTINGS,
    _duration,
    _Invalid,
    _string,
    _string_list,
    _timezone,
    parse_duration,
)

DEFAULT_CONFIG = Path("config/tracker.toml")

__all__ = [
    "DATABASE_BACKENDS", "DEFAULT_CONFIG", "SETTINGS", "Config", "FeedConfig", "check_database_url",
    "check_references", "describe", "load_config", "parse_config", "parse_duration",
    "resolve_path",
]


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
