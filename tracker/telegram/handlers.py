"""What each command and button does. Every handler runs the same way:

1. who is asking: the chat id; the language is the subscriber's, else the Telegram
   ``language_code`` of the user (English for ``en*``, Arabic otherwise);
2. admin commands (/stats, /feeds, /broadcast) answer only chats listed in
   ``telegram.admins``; a broadcast is queued in the outbox as one ``notice`` row per
   active subscriber, so it is delivered like alerts (limits, retries, never twice);
3. commands that change settings need a subscriber (/start first);
4. the store is called in a worker thread (it is blocking), then one reply is sent.

Button payloads (``callback_data``, at most 64 bytes): ``w:e:<page>`` / ``w:t:<page>`` show a
page of entities / event types, ``w+:e:<id>`` / ``w+:t:<id>`` watch one, ``u-:e:<id>`` /
``u-:t:<id>`` stop watching one, ``ev:<event id>`` shows an alert's evidence (a reply in a
private chat; a pop-up for the one who pressed it in a channel or group).

Typed names (``/watch انفيديا``, ``/watch export permit``) are matched on the Arabic match
key of the label, in either language, or on the id itself.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from tracker.alerts.render import Labels, SafeLabels, isolate_latin
from tracker.store import subscribers as subs
from tracker.store.repo import Store
from tracker.telegram.texts import LANGS, pick_lang, say
from tracker.text.normalize import match_key

log = logging.getLogger(__name__)
PAGE = 12
MODES = ("instant", "daily", "weekly")
_PERIOD = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)?\s*$", re.IGNORECASE)
_UNIT = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

Context = ContextTypes.DEFAULT_TYPE


@dataclass(frozen=True)
class Choice:
    """Something a subscriber can watch: ``kind`` is ``entity`` or ``event``."""

    kind: str
    id: str
    ar: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.ar


def parse_period(text: str) -> timedelta | None:
    """``2h``, ``1d``, ``30m``, ``1w`` (a bare number is hours); None when unreadable."""
    m = _PERIOD.match(text)
    if not m or int(m.group(1)) <= 0:
        return None
    return timedelta(seconds=int(m.group(1)) * _UNIT[(m.group(2) or "h").lower()])


class Handlers:
    """The bot's behaviour; PTB calls the ``on_*`` methods."""

    def __init__(self, store: Store, labels: Labels, now_fn: Callable[[], datetime], *,
                 entities: Sequence[tuple[str, str, str]],
                 event_types: Sequence[tuple[str, str, str]],
                 admins: Sequence[str] = (), timezone: str = "UTC") -> None:
        self.timezone = ZoneInfo(timezone)  # undated events show their day in this zone
        self.store = store
        self.labels: Labels = SafeLabels(labels)
        self.now = now_fn
        self.entities = [Choice("entity", i, ar, en) for i, ar, en in entities]
        self.event_types = [Choice("event", i, ar, en) for i, ar, en in event_types]
        self.admins = frozenset(str(a) for a in admins)
        self._by_key: dict[str, Choice] = {}
        for c in [*self.event_types, *self.entities]:
            for name in (c.id, c.ar, c.en, c.id.replace("_", " ")):
                self._by_key.setdefault(match_key(name), c)

    # --- helpers ----------------------------------------------------------------------
    def resolve(self, text: str) -> Choice | None:
        """The entity or event type a typed name means."""
        return self._by_key.get(match_key(text))

    def _choice(self, kind: str, value: str) -> Choice:
        pool = self.entities if kind == "entity" else self.event_types
        return next((c for c in pool if c.id == value), Choice(kind, value, value, value))

    async def _who(self, update: Update) -> tuple[str, str, subs.SubscriberView | None]:
        chat = update.effective_chat
        assert chat is not None
        chat_id = str(chat.id)
        sub = await asyncio.to_thread(subs.get_subscriber, self.store, chat_id)
        user = update.effective_user
        lang = sub.lang if sub else pick_lang(user.language_code if user else None)
        return chat_id, lang, sub

    @staticmethod
    async def _reply(update: Update, text: str,
                     markup: InlineKeyboardMarkup | None = None) -> None:
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup)

    def _keyboard(self, kind: str, page: int, lang: str) -> InlineKeyboardMarkup:
        pool = self.entities if kind == "e" else self.event_types
        chunk = pool[page * PAGE:(page + 1) * PAGE]
        rows = [[InlineKeyboardButton(c.label(lang), callback_data=f"w+:{kind}:{c.id}"[:64])
                 for c in chunk[i:i + 2]] for i in range(0, len(chunk), 2)]
        nav = []
        if page > 0:
            nav.append(InlineKeyboardButton("«", callback_data=f"w:{kind}:{page - 1}"))
        if (page + 1) * PAGE < len(pool):
            nav.append(InlineKeyboardButton("»", callback_data=f"w:{kind}:{page + 1}"))
        if nav:
            rows.append(nav)
        return InlineKeyboardMarkup(rows)

    def _categories(self, lang: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([
            [InlineKeyboardButton(say("pick_entities", lang), callback_data="w:e:0")],
            [InlineKeyboardButton(say("pick_events", lang), callback_data="w:t:0")]])

    # --- subscribing ------------------------------------------------------------------
    async def on_start(self, update: Update, context: Context) -> None:
        chat_id, lang, _ = await self._who(update)
        new = await asyncio.to_thread(subs.subscribe, self.store, chat_id, lang, self.now())
        await self._reply(update, say("welcome" if new else "welcome_back", lang))

    async def on_help(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        await self._reply(update, say("help", lang))

    async def on_lang(self, update: Update, context: Context) -> None:
        chat_id, lang, sub = await self._who(update)
        wanted = (context.args or [""])[0].lower()[:2]
        if wanted not in LANGS:
            await self._reply(update, say("lang_usage", lang))
            return
        if sub is None:
            await asyncio.to_thread(subs.subscribe, self.store, chat_id, wanted, self.now())
        await asyncio.to_thread(subs.update_subscriber, self.store, chat_id, lang=wanted)
        await self._reply(update, say("lang_set", wanted))

    async def on_stop(self, update: Update, context: Context) -> None:
        chat_id, lang, _ = await self._who(update)
        await asyncio.to_thread(subs.forget, self.store, chat_id)
        await self._reply(update, say("stopped", lang))

    # --- watch rules ------------------------------------------------------------------
    async def on_watch(self, update: Update, context: Context) -> None:
        chat_id, lang, sub = await self._who(update)
        if sub is None:
            await self._reply(update, say("not_subscribed", lang))
            return
        text = " ".join(context.args or [])
        if not text:
            await self._reply(update, say("watch_pick", lang), self._categories(lang))
            return
        await self._reply(update, await self._watch(chat_id, lang, text, add=True))

    async def on_unwatch(self, update: Update, context: Context) -> None:
        chat_id, lang, sub = await self._who(update)
        if sub is None:
            await self._reply(update, say("not_subscribed", lang))
            return
        text = " ".join(context.args or [])
        if text:
            await self._reply(update, await self._watch(chat_id, lang, text, add=False))
            return
        watched = [self._choice("entity", v) for v in sorted(sub.entities)]
        watched += [self._choice("event", v) for v in sorted(sub.events)]
        if not watched:
            await self._reply(update, say("nothing_watched", lang))
            return
        rows = [[InlineKeyboardButton(
            "✖ " + c.label(lang), callback_data=f"u-:{'e' if c.kind == 'entity' else 't'}:"
                                               f"{c.id}"[:64])] for c in watched]
        await self._reply(update, say("unwatch_pick", lang), InlineKeyboardMarkup(rows))

    async def _watch(self, chat_id: str, lang: str, text: str, *, add: bool) -> str:
        choice = self.resolve(text)
        if choice is None:
            return say("unknown_item", lang, text=html.escape(text[:100]))
        return await self._apply(chat_id, lang, choice, add=add)

    async def _apply(self, chat_id: str, lang: str, choice: Choice, *, add: bool) -> str:
        label = html.escape(choice.label(lang))
        if add:
            done = await asyncio.to_thread(subs.add_rule, self.store, chat_id, choice.kind,
                                           choice.id)
            return say("watch_added" if done else "watch_exists", lang, label=label)
        done = await asyncio.to_thread(subs.remove_rule, self.store, chat_id, choice.kind,
                                       choice.id)
        return say("unwatch_done" if done else "unwatch_missing", lang, label=label)

    async def on_list(self, update: Update, context: Context) -> None:
        _, lang, sub = await self._who(update)
        if sub is None:
            await self._reply(update, say("not_subscribed", lang))
            return
        entities = "، ".join(html.escape(self._choice("entity", v).label(lang))
                            for v in sorted(sub.entities)) or say("any", lang)
        events = "، ".join(html.escape(self._choice("event", v).label(lang))
                          for v in sorted(sub.events)) or say("any", lang)
        muted = ""
        if sub.muted_until is not None and sub.muted_until > self.now():
            muted = say("muted_until", lang, until=sub.muted_until.strftime("%Y-%m-%d %H:%M"))
        await self._reply(update, say("list", lang, entities=entities, events=events,
                                      mode=say(f"mode_{sub.mode}", lang), muted=muted))

    async def on_mode(self, update: Update, context: Context) -> None:
        chat_id, lang, sub = await self._who(update)
        if sub is None:
            await self._reply(update, say("not_subscribed", lang))
            return
        mode = (context.args or [""])[0].lower()
        if mode not in MODES:
            await self._reply(update, say("mode_usage", lang))
            return
        await asyncio.to_thread(subs.update_subscriber, self.store, chat_id, mode=mode)
        await self._reply(update, say("mode_set", lang, mode=say(f"mode_{mode}", lang)))

    async def on_mute(self, update: Update, context: Context) -> None:
        chat_id, lang, sub = await self._who(update)
        if sub is None:
            await self._reply(update, say("not_subscribed", lang))
            return
        arg = (context.args or [""])[0].lower()
        if arg in ("off", "0", "إلغاء"):
            await asyncio.to_thread(subs.update_subscriber, self.store, chat_id, unmute=True)
            await self._reply(update, say("mute_off", lang))
            return
        period = parse_period(arg)
        if period is None:
            await self._reply(update, say("mute_usage", lang))
            return
        until = self.now() + period
        await asyncio.to_thread(subs.update_subscriber, self.store, chat_id, muted_until=until)
        await self._reply(update, say("mute_set", lang,
                                      until=until.strftime("%Y-%m-%d %H:%M UTC")))

    # --- reading ----------------------------------------------------------------------
    async def on_timeline(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        text = " ".join(context.args or [])
        entity: Choice | None = None
        if text:
            entity = self.resolve(text)
            if entity is None or entity.kind != "entity":
                await self._reply(update, say("unknown_item", lang,
                                              text=html.escape(text[:100])))
                return
        events = await asyncio.to_thread(self.store.recent_events, 10,
                                         entity.id if entity else None)
        about = say("timeline_about", lang, label=html.escape(entity.label(lang))) \
            if entity else ""
        lines = [say("timeline_header", lang, about=about)]
        if not events:
            lines.append(say("timeline_empty", lang))
        for ev in events:
            headline = isolate_latin(ev.headline) if lang == "ar" else ev.headline
            date = ev.event_date.value if ev.event_date else \
                ev.first_seen.astimezone(self.timezone).date().isoformat()
            lines.append(f"• {html.escape(date)} — <b>"
                         f"{html.escape(self.labels.labels(ev.type, lang))}</b>: "
                         f"{html.escape(headline[:300])}")
        await self._reply(update, "\n".join(lines))

    # --- buttons ----------------------------------------------------------------------
    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        chat_id, lang, sub = await self._who(update)
        data = query.data or ""
        head, _, rest = data.partition(":")
        if head == "ev":
            evidence = await self._evidence(rest, lang)
            chat = update.effective_chat
            if chat is not None and chat.type == "private":
                await query.answer()
                await self._reply(update, evidence)
            else:  # a channel or group: show it to the one who pressed, not to everyone
                plain = html.unescape(re.sub(r"<[^>]+>", "", evidence))
                await query.answer(plain[:200], show_alert=True)
            return
        if sub is None:
            await query.answer(say("not_subscribed", lang), show_alert=True)
            return
        kind, _, value = rest.partition(":")
        if head == "w" and kind in ("e", "t") and value.isdigit():
            await query.answer()
            await self._reply(update, say("watch_pick", lang),
                              self._keyboard(kind, int(value), lang))
            return
        if head in ("w+", "u-") and kind in ("e", "t"):
            choice = self._choice("entity" if kind == "e" else "event", value)
            text = await self._apply(chat_id, lang, choice, add=head == "w+")
            await query.answer(html.unescape(re.sub(r"<[^>]+>", "", text))[:190])
            await self._reply(update, text)
            return
        await query.answer()

    async def _evidence(self, event_id: str, lang: str) -> str:
        found = await asyncio.to_thread(subs.get_event, self.store, int(event_id)) \
            if event_id.isdigit() else None
        if found is None:
            return say("evidence_gone", lang)
        event, sentences = found
        lines = [say("evidence_title", lang)]
        lines += [f"• <i>{html.escape(p)}</i>" for p in event.evidence]
        lines += [f"«{html.escape(s[:500])}»" for s in sentences[:5]]
        while len("\n".join(lines)) > 4000 and len(lines) > 2:
            lines.pop()
        return "\n".join(lines)

    # --- operators --------------------------------------------------------------------
    def _is_admin(self, update: Update) -> bool:
        chat, user = update.effective_chat, update.effective_user
        ids = {str(chat.id) if chat else "", str(user.id) if user else ""}
        return bool(ids & self.admins)

    async def on_stats(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        if not self._is_admin(update):
            await self._reply(update, say("not_admin", lang))
            return

        def gather() -> tuple[dict[str, int], dict[str, int], dict[str, int],
                              list[tuple[int, str, str, str]]]:
            return (self.store.counts(), subs.subscriber_counts(self.store),
                    subs.outbox_states(self.store), subs.failed_messages(self.store, 5))

        counts, people, outbox, failed = await asyncio.to_thread(gather)
        lines = ["<b>stats</b>"]
        lines += [f"{k}: {v}" for k, v in counts.items()]
        lines += [f"subscribers_{k}: {v}" for k, v in sorted(people.items())]
        lines += [f"outbox {html.escape(k)}: {v}" for k, v in sorted(outbox.items())]
        if failed:
            lines.append("<b>failed</b>")
            lines += [f"#{i} chat {html.escape(c)} {html.escape(k)}: {html.escape(e[:200])}"
                      for i, c, k, e in failed]
        await self._reply(update, "\n".join(lines))

    async def on_feeds(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        if not self._is_admin(update):
            await self._reply(update, say("not_admin", lang))
            return
        feeds = await asyncio.to_thread(self.store.feeds)
        now = self.now()
        feeds.sort(key=lambda f: (-f.consecutive_failures,
                                  f.last_success_at or datetime.min.replace(tzinfo=now.tzinfo)))
        lines = ["<b>feeds</b> (failing first)"]
        for f in feeds[:40]:
            age = "never" if f.last_success_at is None else \
                f"{int((now - f.last_success_at).total_seconds() // 60)}m ago"
            mark = "❌" if f.consecutive_failures else "✅"
            err = f" — {html.escape((f.last_error or '')[:120])}" if f.consecutive_failures else ""
            lines.append(f"{mark} {html.escape(f.name)}: failures {f.consecutive_failures}, "
                         f"last success {age}{err}")
        await self._reply(update, "\n".join(lines))

    async def on_broadcast(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        if not self._is_admin(update):
            await self._reply(update, say("not_admin", lang))
            return
        text = " ".join(context.args or []).strip()
        if not text:
            await self._reply(update, say("broadcast_usage", lang))
            return
        queued = await asyncio.to_thread(subs.queue_broadcast, self.store, text, self.now())
        await self._reply(update, say("broadcast_done", lang, n=queued))

    async def on_error(self, update: object, context: Context) -> None:
        chat_id: Any = None
        if isinstance(update, Update) and update.effective_chat is not None:
            chat_id = update.effective_chat.id
        log.error("bot_handler_error", exc_info=context.error, extra={"chat_id": chat_id})
