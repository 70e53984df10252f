"""Logs are data: an event name plus stable snake_case keys, readable or JSON.

Secrets (the bot token) are redacted at this layer, in the final formatted line — message,
keys and tracebacks alike — so no code path that logs can leak them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from tracker.text.safe import terminal_text

REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its part after the bot id, ``123:SECRET``) replaced."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, REDACTED)
        _, sep, tail = secret.partition(":")
        if sep and len(tail) >= 8:
            text = text.replace(tail, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and redacts ``secrets`` from what it produces."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


def _one_line(value: object) -> str:
    """A value as one log line can hold it: a feed string cannot start a fake log line
    (newlines become ``\\n``) nor drive the terminal (control characters deleted)."""
    return terminal_text(str(value).replace("\r", "\\r").replace("\n", "\\n"))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        pairs = " ".join(f"{k}={_one_line(v)}" for k, v in _extras(record).items())
        line = f"{when} {record.levelname:<7} {_one_line(record.getMessage())} {pairs}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


# What json.dumps(ensure_ascii=False) leaves raw but a terminal acts on: DEL, C1 (0x9B is an
# 8-bit CSI), bidi embeddings/overrides/isolates. json.dumps already escapes C0 itself.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; feed strings stay intact, but as JSON escapes (``\\u001b``,
    ``\\u009b``), never as raw control characters (a JSON log is also read in terminals)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(), "event": record.getMessage(),
            "logger": record.name, **_extras(record),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        line = json.dumps(data, ensure_ascii=False, default=str)
        return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    inner: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    handler.setFormatter(RedactingFormatter(inner, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "telegram"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # PTB's rate limiter logs every RetryAfter as an error with a traceback; the outbox
    # handles it (RetryLater) and logs it once as data.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
