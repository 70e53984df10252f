"""Delivering outbox messages through the Telegram Bot API (a ``Notifier`` for the drain).

Order of decisions for one message:

1. kind: ``alert`` is rendered (``alert_html`` in the chat's language: the subscriber's, or
   Arabic for config channels), split into parts of at most 4096 characters, and sent with
   the evidence button on the last part; ``update`` edits the alert's message(s) in place
   with the current sources; ``digest`` renders the chat's digest for its period;
   ``notice`` (operator notices, broadcasts) sends its payload as plain text;
2. limits: a chat gets at most one message per ``per_chat_interval`` (our own spacing);
   the overall rate and the per-group rate are PTB's ``AIORateLimiter``, configured with
   ``max_retries=0`` so a ``RetryAfter`` reaches us and the outbox — not a sleeping task —
   decides when to try again;
3. the answer, mapped onto the outbox outcomes:
   ``RetryAfter`` → :class:`RetryLater` (after Telegram's delay);
   ``Forbidden`` (blocked, kicked) and ``BadRequest: chat not found`` → the chat is
   deactivated and :class:`Undeliverable`;
   ``BadRequest: message is not modified`` on an edit → delivered;
   any other ``BadRequest`` → :class:`Rejected` (failed for good, logged for the operator);
   ``TimedOut``, ``NetworkError`` and 5xx → :class:`~tracker.errors.DeliveryError` (backoff).
"""

from __future__ import annotations

import asyncio
import html
import importlib.util
import logging
import socket
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import BaseRequest, HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from tracker.alerts.outbox import Rejected, RetryLater, Undeliverable
from tracker.alerts.render import Labels, SafeLabels, alert_html
from tracker.errors import DeliveryError
from tracker.model import Watchlist
from tracker.store.repo import OutboxMessage, Store
from tracker.store.subscribers import (
    chat_langs,
    deactivate,
    events_between,
    get_subscriber,
    parse_digest_window,
)
from tracker.telegram.digest import build_digest
from tracker.telegram.split import split_html
from tracker.telegram.texts import say
from tracker.telegram.transport import LeanRequest

log = logging.getLogger(__name__)
T = TypeVar("T")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


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


def make_bot(token: str, settings: SenderSettings) -> ExtBot[Any]:
    """A PTB bot with the rate limiter and a connection pool sized for concurrent sends."""
    _skip_sniffio_lookups()
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


def build_notifier(config_values: Mapping[tuple[str, str], Any], store: Store, labels: Labels,
                   *, token: str, settings: SenderSettings | None = None,
                   watchlists: Sequence[Watchlist] = ()) -> TelegramNotifier:
    """The outbox notifier the daemon uses; ``telegram.api_url`` comes from the config.

    Call ``await notifier.start()`` before the first drain and ``await notifier.close()``
    at shutdown.
    """
    settings = settings or SenderSettings()
    api_url = config_values.get(("telegram", "api_url"))
    if api_url:
        settings = replace(settings, api_url=str(api_url))
    channels = {chat: (wl.events, wl.entities) for wl in watchlists for chat in wl.chats
                if chat != "console"}
    return TelegramNotifier(make_bot(token, settings), store, labels,
                            per_chat_interval=settings.per_chat_interval, channels=channels,
                            timezone=str(config_values.get(("scheduler", "timezone"), "UTC")))


def evidence_markup(event_id: int, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(say("evidence_button", lang), callback_data=f"ev:{event_id}")]])


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's delay, read without PTB's int-or-timedelta deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramNotifier:
    """A :class:`~tracker.alerts.outbox.Notifier` (with ``prepare``) over a PTB bot."""

    def __init__(self, bot: ExtBot[Any], store: Store, labels: Labels, *,
                 per_chat_interval: float = 1.0, default_lang: str = "ar",
                 channels: Mapping[str, tuple[frozenset[str], frozenset[str]]] | None = None,
                 timezone: str = "UTC") -> None:
        self.bot = bot
        self.channels = dict(channels or {})  # config watchlist chats: (events, entities)
        self.timezone = timezone
        self.store = store
        self.labels: Labels = SafeLabels(labels)
        self.per_chat_interval = per_chat_interval
        self.default_lang = default_lang
        self._langs: dict[str, str] = {}
        self._next_slot: dict[str, float] = {}
        self._rendered: dict[tuple[int, int, str, str], list[str]] = {}

    # --- drain hooks ----------------------------------------------------------------------
    async def prepare(self, messages: Sequence[OutboxMessage]) -> None:
        """Load the language of every chat of the batch in one query."""
        if len(self._langs) > 100_000:
            self._langs.clear()
        chats = {m.chat_id for m in messages}
        self._langs.update(await asyncio.to_thread(chat_langs, self.store, chats))
        for chat in chats:
            self._langs.setdefault(chat, self.default_lang)

    async def deliver(self, message: OutboxMessage) -> str | None:
        if message.chat_id not in self._langs:
            await self.prepare([message])
        lang = self._langs[message.chat_id]
        if message.kind == "alert":
            return await self._alert(message, lang)
        if message.kind == "update":
            return await self._update(message, lang)
        if message.kind == "digest":
            return await self._digest(message, lang)
        if message.kind == "notice":
            return await self._notice(message)
        raise Rejected(f"unknown outbox kind {message.kind!r}")

    async def start(self) -> None:
        """Open the bot's connections and check the token (getMe)."""
        await self.bot.initialize()

    async def close(self) -> None:
        await self.bot.shutdown()

    def forget_chat(self, chat_id: str) -> None:
        """Drop cached settings of a chat (its language changed, it left)."""
        self._langs.pop(chat_id, None)

    # --- kinds ----------------------------------------------------------------------------
    def _parts(self, message: OutboxMessage, lang: str) -> list[str]:
        event = message.event
        assert event is not None
        key = (event.id, len(message.sources), event.status, lang)
        parts = self._rendered.get(key)
        if parts is None:
            if len(self._rendered) > 1024:
                self._rendered.clear()
            parts = split_html(alert_html(event, message.sources, self.labels, lang,
                                          tz=self.timezone))
            self._rendered[key] = parts
        return parts

    async def _alert(self, message: OutboxMessage, lang: str) -> str | None:
        if message.event is None:
            raise Rejected("alert without an event")
        parts = self._parts(message, lang)
        markup = evidence_markup(message.event.id, lang)
        ids = []
        for i, part in enumerate(parts):
            sent = await self._send(message.chat_id, part,
                                    markup if i == len(parts) - 1 else None)
            ids.append(str(sent.message_id))
        return ",".join(ids)

    async def _update(self, message: OutboxMessage, lang: str) -> str | None:
        if message.event is None or not message.message_id:
            return message.message_id
        parts = self._parts(message, lang)
        ids = message.message_id.split(",")
        markup = evidence_markup(message.event.id, lang)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if i < len(ids):
                await self._edit(message.chat_id, int(ids[i]), part, markup if last else None)
            else:
                sent = await self._send(message.chat_id, part, markup if last else None)
                ids.append(str(sent.message_id))
        return ",".join(ids)

    async def _digest(self, message: OutboxMessage, lang: str) -> str | None:
        window = parse_digest_window(message.watchlist)
        if window is None:
            raise Rejected(f"digest row without a period: {message.watchlist!r}")
        period, since, until = window
        sub = await asyncio.to_thread(get_subscriber, self.store, message.chat_id)
        if sub is not None and sub.active:
            wanted = (sub.events, sub.entities)
        elif message.chat_id in self.channels:  # a channel of a config watchlist
            wanted = self.channels[message.chat_id]
        else:
            return None
        events = await asyncio.to_thread(events_between, self.store, since, until, *wanted)
        text = build_digest(events, self.labels, lang, period=period, tz=self.timezone)
        ids = []
        for part in split_html(text):
            sent = await self._send(message.chat_id, part, None)
            ids.append(str(sent.message_id))
        if period == "weekly":
            ids.append(await self._weekly_file(message.chat_id, since, until, *wanted))
        return ",".join(ids)

    async def _weekly_file(self, chat_id: str, since: datetime, until: datetime,
                           events: frozenset[str], entities: frozenset[str]) -> str:
        """The week's timeline as one self-contained HTML file, filtered like the digest."""
        from tracker.export import render_export

        entries = await asyncio.to_thread(
            self.store.timeline, since=since, until=until, limit=None, newest_first=False)
        entries = [e for e in entries
                   if (not events or e.event.type in events)
                   and (not entities or any(x.id in entities for x in e.event.entities))]
        local = since.astimezone(ZoneInfo(self.timezone)) + timedelta(days=3)
        week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
        data = render_export("html", entries, week=week, tz=self.timezone,
                             labels=self.labels, generated_at=until)
        await self._space(chat_id)
        sent = await self._call(chat_id, lambda: self.bot.send_document(
            chat_id=chat_id, document=data, filename=f"tracker-{week}.html"))
        return str(sent.message_id)

    async def _notice(self, message: OutboxMessage) -> str | None:
        """An operator notice or broadcast: plain text, shown as is."""
        if not message.payload:
            return None
        ids = []
        for part in split_html(html.escape(message.payload, quote=False)):
            sent = await self._send(message.chat_id, part, None)
            ids.append(str(sent.message_id))
        return ",".join(ids)

    # --- the wire -------------------------------------------------------------------------
    async def _send(self, chat_id: str, text: str,
                    markup: InlineKeyboardMarkup | None) -> Message:
        await self._space(chat_id)
        return await self._call(chat_id, lambda: self.bot.send_message(
            chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
            link_preview_options=NO_PREVIEW))

    async def _edit(self, chat_id: str, message_id: int, text: str,
                    markup: InlineKeyboardMarkup | None) -> None:
        await self._space(chat_id)
        try:
            await self._call(chat_id, lambda: self.bot.edit_message_text(
                chat_id=chat_id, message_id=message_id, text=text, parse_mode=ParseMode.HTML,
                reply_markup=markup, link_preview_options=NO_PREVIEW))
        except Rejected as exc:
            reason = str(exc).lower()
            if "not modified" in reason or "message to edit not found" in reason \
                    or "can't be edited" in reason:
                return  # the reader already sees it, or deleted it: nothing left to do
            raise

    async def _space(self, chat_id: str) -> None:
        """Keep ``per_chat_interval`` between two messages to one chat."""
        if self.per_chat_interval <= 0:
            return
        now = time.monotonic()
        slot = max(now, self._next_slot.get(chat_id, 0.0))
        self._next_slot[chat_id] = slot + self.per_chat_interval
        if len(self._next_slot) > 50_000:
            self._next_slot = {c: t for c, t in self._next_slot.items() if t > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _call(self, chat_id: str, send: Callable[[], Awaitable[T]]) -> T:
        try:
            return await send()
        except RetryAfter as exc:
            raise RetryLater(f"flood control: {exc}", retry_seconds(exc)) from exc
        except Forbidden as exc:
            await self._deactivate(chat_id, str(exc))
            raise Undeliverable(f"forbidden: {exc}") from exc
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                await self._deactivate(chat_id, str(exc))
                raise Undeliverable(f"bad request: {exc}") from exc
            raise Rejected(f"bad request: {exc}") from exc
        except TelegramError as exc:  # TimedOut, NetworkError (5xx, transport), others
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc

    async def _deactivate(self, chat_id: str, reason: str) -> None:
        failed = await asyncio.to_thread(deactivate, self.store, chat_id, reason)
        self._langs.pop(chat_id, None)
        log.warning("chat_deactivated", extra={"chat_id": chat_id, "reason": reason,
                                               "pending_failed": failed})
