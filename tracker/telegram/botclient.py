"""The PTB bot the sender sends with: its settings, its transport and rate limiter, and
reading Telegram's flood-wait delay.

``make_bot`` builds an ``ExtBot`` whose ``AIORateLimiter`` keeps the overall and per-group
rates but never retries (``max_retries=0``): a ``RetryAfter`` reaches the sender, and the
outbox — not a sleeping task — decides when to try again (see :mod:`tracker.telegram.sender`).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from tracker.telegram.transport import LeanRequest


@dataclass(frozen=True)
class SenderSettings:
    """How the sender talks to the Bot API."""

    api_url: str = "https://api.telegram.org/bot"  # PTB appends the token
    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    connection_pool: int = 8  # concurrent connections to the Bot API
    timeout: float = 15.0
    transport: str = "lean"  # "lean" (tracker.telegram.transport) or "httpx" (proxies, HTTP/2)


def _skip_sniffio_lookups() -> None:
    """httpcore runs ``import sniffio`` for every request; where sniffio is not installed
    each attempt searches ``sys.path`` again (about 0.3 ms, several times per message).
    Recording it as absent keeps httpcore's own fallback (asyncio) and skips the search."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def use_timedelta_durations() -> None:
    """PTB 22 builds every ``RetryAfter`` by reading its own deprecated int-valued
    ``retry_after``, which warns (and, where warnings are errors, turns a flood wait into
    an unrelated exception). Opting in to the timedelta form, as PTB suggests, avoids it;
    :func:`retry_seconds` reads either form."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def make_bot(token: str, settings: SenderSettings) -> ExtBot[Any]:
    """A PTB bot with the rate limiter and a connection pool sized for concurrent sends."""
    _skip_sniffio_lookups()
    use_timedelta_durations()
    httpx_request = HTTPXRequest(
        connection_pool_size=settings.connection_pool, read_timeout=settings.timeout,
        write_timeout=settings.timeout, connect_timeout=settings.timeout,
        pool_timeout=settings.timeout,
        # httpx writes headers and body separately: without NODELAY the body waits for a
        # delayed ACK (tens of ms per request).
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    request: BaseRequest = httpx_request
    if settings.transport == "lean":
        request = LeanRequest(pool_size=settings.connection_pool, timeout=settings.timeout,
                              fallback=httpx_request)
    limiter = AIORateLimiter(overall_max_rate=settings.overall_per_second, overall_time_period=1,
                             group_max_rate=settings.group_per_minute, group_time_period=60,
                             max_retries=0)
    return ExtBot(token, base_url=settings.api_url, request=request, rate_limiter=limiter)


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's delay, read without PTB's int-or-timedelta deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
