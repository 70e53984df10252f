"""Delivering outbox messages through the Telegram Bot API (a ``Notifier`` for the drain).

Order of decisions for one message:

1. kind: ``alert`` is rendered (``alert_html`` in the chat's language: the subscriber's, or
   Arabic for config channels), split into parts of at most 4096 characters, and sent with
   the evidence button on the last part; ``update`` edits the alert's message(s) in place
   with the current sources; ``digest`` renders the chat's digest for its period;
   ``notice`` (operator notices, broadcasts) sends its payload as plain text;
2. limits: a chat gets at most one message per ``per_chat_interval`` (a group one per
   ``group_interval``): :meth:`TelegramNotifier.chat_interval` tells the outbox claim, which
   hands out slots from the database so the spacing holds across processes, and the sender
   keeps it between the parts of one message;
   the overall rate and the per-group rate are PTB's ``AIORateLimiter``, configured with
   ``max_retries=0`` so a ``RetryAfter`` reaches us and the outbox — not a sleeping task —
   decides when to try again;
3. the answer, mapped onto the outbox outcomes:
   ``RetryAfter`` → :class:`RetryLater` with ``flood="chat"``: nothing goes to that chat
   (across the cluster) until Telegram's delay has passed;
   a success whose body is not a readable answer (not JSON, no ``result``, not a Message)
   → :class:`Unconfirmed`: recorded as delivered-unconfirmed, never sent again;
   ``Forbidden`` (blocked, kicked) and ``BadRequest: chat not found`` → the chat is
   deactivated and :class:`Undeliverable`;
   ``BadRequest: message is not modified`` on an edit → delivered;
   any other ``BadRequest`` → :class:`Rejected` (failed for good, logged for the operator);
   ``TimedOut``, ``NetworkError`` and 5xx → :class:`~tracker.errors.DeliveryError` (backoff).
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from tracker.alerts.match import matched_rule
from tracker.alerts.outbox import OutboxMessage, Rejected, RetryLater, Unconfirmed, Undeliverable
from tracker.alerts.render import Labels, SafeLabels, alert_html
from tracker.errors import DeliveryError
from tracker.model import TimelineEvent, Watchlist
from tracker.telegram.botclient import SenderSettings, make_bot, retry_seconds
from tracker.telegram.digest import build_digest, digest_window
from tracker.telegram.keyboards import alert_buttons
from tracker.telegram.link import TelegramLink
from tracker.telegram.ports import SenderStore
from tracker.telegram.split import split_html

__all__ = ["SenderSettings", "TelegramNotifier", "build_notifier", "make_bot", "retry_seconds"]

log = logging.getLogger(__name__)
T = TypeVar("T")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def build_notifier(config_values: Mapping[tuple[str, str], Any], store: SenderStore,
                   labels: Labels,
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
                            per_chat_interval=settings.per_chat_interval,
                            group_interval=60.0 / max(settings.group_per_minute, 0.001),
                            channels=channels,
                            timezone=str(config_values.get(("scheduler", "timezone"), "UTC")),
                            admins=config_values.get(("telegram", "admins"), ()),
                            feedback=str(config_values.get(("telegram", "feedback"), "admins")))


def _message(answer: object) -> Message:
    """The Message a send returned, or :class:`Unconfirmed` (a success we cannot read)."""
    if not isinstance(answer, Message) or not isinstance(answer.message_id, int):
        raise Unconfirmed(f"a success answer that is not a Message ({type(answer).__name__})")
    return answer


class TelegramNotifier:
    """A :class:`~tracker.alerts.outbox.Notifier` (with ``prepare``) over a PTB bot."""

    def __init__(self, bot: ExtBot[Any], store: SenderStore, labels: Labels, *,
                 per_chat_interval: float = 1.0, group_interval: float = 0.0,
                 spacing_margin: float = 0.2, default_lang: str = "ar",
                 channels: Mapping[str, tuple[frozenset[str], frozenset[str]]] | None = None,
                 timezone: str = "UTC", admins: Sequence[str] = (),
                 feedback: str = "admins") -> None:
        self.bot = bot
        self.channels = dict(channels or {})  # config watchlist chats: (events, entities)
        self.timezone = timezone
        self.store = store
        self.labels: Labels = SafeLabels(labels)
        self.per_chat_interval = per_chat_interval
        self.group_interval = group_interval
        self.spacing_margin = spacing_margin
        self.default_lang = default_lang
        self.admins = frozenset(str(a) for a in admins)
        self.feedback = feedback  # "admins" or "subscribers": who judges alerts
        self._langs: dict[str, str] = {}
        self._subscribers: set[str] = set()  # chats of the cached languages that subscribed
        self._quiet: set[str] = set()  # subscribers who want rumoured/planned alerts silent
        self._next_slot: dict[str, float] = {}
        self._rendered: dict[tuple[int, int, str, str], list[str]] = {}
        self.link: TelegramLink | None = None  # told of transport and token trouble
        self._opened = False

    # --- drain hooks ----------------------------------------------------------------------
    async def prepare(self, messages: Sequence[OutboxMessage]) -> None:
        """Load the language (and sound choice) of every chat of the batch in one go."""
        if len(self._langs) > 100_000:
            self._langs.clear()
            self._subscribers.clear()
            self._quiet.clear()
        chats = {m.chat_id for m in messages}

        def load() -> tuple[dict[str, str], set[str]]:
            return self.store.chat_langs(chats), self.store.quiet_chats(chats)

        langs, quiet = await asyncio.to_thread(load)
        self._langs.update(langs)
        self._subscribers.update(langs)
        self._quiet = (self._quiet - chats) | quiet
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

    def chat_interval(self, chat_id: str) -> float:
        """Seconds between two slots for ``chat_id`` in the outbox claim: Telegram's spacing
        (groups and channels, with negative ids or ``@names``, get the group one) plus
        ``spacing_margin``, which absorbs the jitter between a slot and the moment the
        request reaches Telegram (connection set-up, a busy event loop)."""
        step = self.per_chat_interval
        if chat_id.startswith(("-", "@")):
            step = max(self.group_interval, step)
        return step + self.spacing_margin if step > 0 else 0.0

    async def start(self) -> None:
        """Open the bot's connections and check the token (getMe); raises when it fails."""
        await self.probe()

    async def probe(self) -> None:
        """One ``getMe``: opens the connections first if they are not open yet."""
        if not self._opened:
            await self.bot.initialize()
            self._opened = True
        else:
            await self.bot.get_me()

    async def close(self) -> None:
        if self._opened:
            await self.bot.shutdown()
        else:  # getMe never succeeded: PTB would skip closing the connections
            await self.bot.request.shutdown()

    def forget_chat(self, chat_id: str) -> None:
        """Drop cached settings of a chat (its language changed, it left)."""
        self._langs.pop(chat_id, None)

    def _markup(self, chat_id: str, event_id: int, lang: str) -> InlineKeyboardMarkup:
        """Evidence for all; 👍/👎/another type for operators (and subscribers, if asked)."""
        judge = chat_id in self.admins or (self.feedback == "subscribers"
                                           and chat_id in self._subscribers)
        return alert_buttons(event_id, lang, feedback=judge)

    def _silent(self, chat_id: str, status: str) -> bool:
        """A rumoured or planned event, to a subscriber who wants those without a sound."""
        return status in ("rumoured", "planned") and chat_id in self._quiet

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
        markup = self._markup(message.chat_id, message.event.id, lang)
        silent = self._silent(message.chat_id, message.event.status)
        ids = []
        for i, part in enumerate(parts):
            sent = await self._send(message.chat_id, part,
                                    markup if i == len(parts) - 1 else None, silent=silent)
            ids.append(str(sent.message_id))
        return ",".join(ids)

    async def _update(self, message: OutboxMessage, lang: str) -> str | None:
        if message.event is None or not message.message_id:
            return message.message_id
        parts = self._parts(message, lang)
        ids = message.message_id.split(",")
        markup = self._markup(message.chat_id, message.event.id, lang)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if i < len(ids):
                await self._edit(message.chat_id, int(ids[i]), part, markup if last else None)
            else:
                sent = await self._send(message.chat_id, part, markup if last else None)
                ids.append(str(sent.message_id))
        return ",".join(ids)

    async def _digest(self, message: OutboxMessage, lang: str) -> str | None:
        window = digest_window(message.watchlist)
        if window is None:
            raise Rejected(f"digest row without a period: {message.watchlist!r}")
        period, since, until = window
        sub = await asyncio.to_thread(self.store.get_subscriber, message.chat_id)
        wants: Callable[[TimelineEvent], bool]
        if sub is not None and sub.active:
            rules = sub.rules
            events = await asyncio.to_thread(self.store.events_for_rules, since, until, rules)

            def wants(ev: TimelineEvent) -> bool:
                return matched_rule(ev.type, (x.id for x in ev.entities), rules) is not None
        elif message.chat_id in self.channels:  # a channel of a config watchlist
            types, entities = self.channels[message.chat_id]
            events = await asyncio.to_thread(self.store.events_between, since, until, types,
                                             entities)

            def wants(ev: TimelineEvent) -> bool:
                return ((not types or ev.type in types) and
                        (not entities or any(x.id in entities for x in ev.entities)))
        else:
            return None
        text = build_digest(events, self.labels, lang, period=period, tz=self.timezone)
        ids = []
        for part in split_html(text):
            sent = await self._send(message.chat_id, part, None)
            ids.append(str(sent.message_id))
        if period == "weekly":
            ids.append(await self._weekly_file(message.chat_id, since, until, wants))
        return ",".join(ids)

    async def _weekly_file(self, chat_id: str, since: datetime, until: datetime,
                           wants: Callable[[TimelineEvent], bool]) -> str:
        """The week's timeline as one self-contained HTML file, filtered like the digest."""
        from tracker.export import render_export

        entries = await asyncio.to_thread(self.store.timeline, since=since, until=until)
        entries = [e for e in entries if wants(e.event)]
        local = since.astimezone(ZoneInfo(self.timezone)) + timedelta(days=3)
        week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
        data = render_export("html", entries, week=week, tz=self.timezone,
                             labels=self.labels, generated_at=until)
        await self._space(chat_id)
        sent = await self._call(chat_id, lambda: self.bot.send_document(
            chat_id=chat_id, document=data, filename=f"tracker-{week}.html"))
        return str(_message(sent).message_id)

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
    async def _send(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None, *,
                    silent: bool = False) -> Message:
        await self._space(chat_id)
        sent = await self._call(chat_id, lambda: self.bot.send_message(
            chat_id=chat_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
            link_preview_options=NO_PREVIEW, disable_notification=silent or None))
        return _message(sent)

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
            answer = await send()
        except TelegramError as exc:
            self._observe(exc)
            await self._refused(chat_id, exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # PTB read a 2xx answer without a ``result`` or whose result is no Message
            raise Unconfirmed(f"a success answer that is not a Message "
                              f"({type(exc).__name__})") from exc
        self._observe(None)
        return answer

    def _observe(self, exc: TelegramError | None) -> None:
        """Tell the link whether Telegram answered (any real answer) or could not be reached
        (transport failures, timeouts, 5xx) or refused the token."""
        if self.link is None:
            return
        if isinstance(exc, InvalidToken) or (
                isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)):
            self.link.trouble(exc)
        else:
            self.link.fine()

    async def _refused(self, chat_id: str, exc: TelegramError) -> NoReturn:
        """Map a failed call onto an outbox outcome (see the module docstring)."""
        if isinstance(exc, RetryAfter):
            raise RetryLater(f"flood control: {exc}", retry_seconds(exc), flood="chat") from exc
        if isinstance(exc, Forbidden):
            await self._deactivate(chat_id, str(exc))
            raise Undeliverable(f"forbidden: {exc}") from exc
        if isinstance(exc, BadRequest):
            if "chat not found" in str(exc).lower():
                await self._deactivate(chat_id, str(exc))
                raise Undeliverable(f"bad request: {exc}") from exc
            raise Rejected(f"bad request: {exc}") from exc
        if isinstance(exc, InvalidToken):
            raise DeliveryError("the Bot API refused the token") from exc
        if type(exc) is TelegramError and "invalid server response" in str(exc).lower():
            raise Unconfirmed("a success answer that is not JSON") from exc  # it was a 2xx
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc  # TimedOut, 5xx, transport

    async def _deactivate(self, chat_id: str, reason: str) -> None:
        failed = await asyncio.to_thread(self.store.deactivate, chat_id, reason)
        self._langs.pop(chat_id, None)
        log.warning("chat_deactivated", extra={"chat_id": chat_id, "reason": reason,
                                               "pending_failed": failed})
