"""Every setting of tracker, declared once: section, key, default (as written in TOML), help
and the converter that validates it (:data:`SETTINGS`).

:mod:`tracker.config` checks a file against this table; ``tracker check-config --describe``
and the shipped example config are generated from and tested against it. A converter raises
``_Invalid`` with a message that :mod:`tracker.config` turns into a
:class:`~tracker.errors.ConfigError` naming the file and key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
