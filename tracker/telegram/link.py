"""Whether the Bot API answers with our token, and getting back to it when it does not.

Telegram trouble never stops the daemon: feeds are polled and alerts wait in the outbox
while the link is down. The order of decisions:

1. :meth:`TelegramLink.connect` calls ``getMe`` (through the given ``probe``); success makes
   the link ``ok``; a refused token (401/404, PTB's ``InvalidToken``) makes it
   ``token_rejected``; anything else (connection refused, timeouts, 5xx) ``unreachable``;
2. a failure is logged once, as one line without a traceback (the token never appears:
   the logging layer redacts it, see :mod:`tracker.logs`), and again only when the reason
   changes or the link recovers;
3. :meth:`TelegramLink.run` retries with exponential backoff, ``retry_first`` doubling up to
   ``retry_max``, until the link is ``ok``;
4. mid-run the sender reports what it sees (:meth:`trouble`, :meth:`fine`): a refused token at
   once, or three network failures in a row, take the link down again, and the daemon stops
   draining the outbox (rows keep their attempts) until a probe succeeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram.error import InvalidToken

log = logging.getLogger(__name__)

OK = "ok"
STARTING = "starting"
UNREACHABLE = "unreachable"
TOKEN_REJECTED = "token_rejected"


def failure_kind(exc: BaseException) -> str:
    """``token_rejected`` or ``unreachable`` for an exception of a Bot API call."""
    return TOKEN_REJECTED if isinstance(exc, InvalidToken) else UNREACHABLE


def describe(exc: BaseException) -> str:
    """A short reason for the log line (PTB's texts; the token is redacted by logging)."""
    if isinstance(exc, InvalidToken):
        return "the Bot API refused the token (401 Unauthorized)"
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


class TelegramLink:
    """The state of one Bot API connection (see the module docstring)."""

    def __init__(self, probe: Callable[[], Awaitable[object]], *, name: str = "telegram",
                 retry_first: float = 5.0, retry_max: float = 300.0,
                 failures_to_down: int = 3,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.probe = probe
        self.sleep = sleep  # the wait between two probes (a test passes its own)
        self.name = name
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.failures_to_down = failures_to_down
        self.status = STARTING
        self.reason: str | None = None
        self.attempts = 0
        self._failures = 0
        self._woken = asyncio.Event()

    @property
    def available(self) -> bool:
        return self.status == OK

    def health(self) -> str:
        """``ok`` or what is wrong, for ``/healthz``."""
        return self.status

    async def connect(self) -> bool:
        """One probe; True when the Bot API answered."""
        self.attempts += 1
        try:
            await self.probe()
        except Exception as exc:
            self._down(failure_kind(exc), describe(exc))
            return False
        self._up()
        return True

    async def run(self) -> None:
        """Probe with backoff until the link is up; then wait until it goes down again."""
        delay = self.retry_first
        while True:
            if self.available:
                self._woken.clear()
                await self._woken.wait()
                delay = self.retry_first
                continue
            if await self.connect():
                continue
            await self.sleep(delay)
            delay = min(self.retry_max, delay * 2)

    def trouble(self, exc: BaseException) -> None:
        """The sender's call failed at the transport or with the token."""
        kind = failure_kind(exc)
        self._failures += 1
        if kind == TOKEN_REJECTED or self._failures >= self.failures_to_down:
            self._down(kind, describe(exc))

    def fine(self) -> None:
        """The sender's call reached Telegram."""
        self._failures = 0
        if not self.available:
            self._up()

    def _down(self, status: str, reason: str) -> None:
        was = (self.status, self.reason)
        self.status, self.reason = status, reason
        if was != (status, reason):
            log.error("telegram_unavailable", extra={
                "link": self.name, "status": status, "reason": reason,
                "retry_in_seconds": self.retry_first,
                "effect": "feeds are polled and alerts wait in the outbox"})
        self._woken.set()

    def _up(self) -> None:
        if self.status != OK:
            log.info("telegram_connected", extra={"link": self.name,
                                                  "after_attempts": self.attempts})
        self.status, self.reason = OK, None
        self._failures = 0
