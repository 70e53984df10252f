"""What each command and button does. Every handler runs the same way:

1. who is asking: the chat id; the language is the subscriber's, else the Telegram
   ``language_code`` of the user (English for ``en*``, Arabic otherwise);
2. admin commands (/stats, /feeds, /broadcast) answer only chats listed in
   ``telegram.admins``; a broadcast is queued in the outbox as one ``notice`` row per
   active subscriber, so it is delivered like alerts (limits, retries, never twice);
3. commands that change settings need a subscriber (/start first; ``/start watch_<id>``
   deep links subscribe and add the rule in one step);
4. the store (a :class:`~tracker.telegram.ports.BotStore`) is called in a worker thread;
5. a command gets one reply; a button edits the message it sits under, in place, and
   answers the tap without posting anything (see :mod:`tracker.telegram.keyboards`);
6. anything else — an unknown command, plain text in a private chat — gets a short pointer
   to /help, never silence.

Typed names (``/watch انفيديا``, ``/watch export permit``, ``/watch huawei export permit``)
are matched on the Arabic match key of the label, in either language, or on the id itself;
two names (an entity and an event type) make one combined rule. Times are shown in the
configured time zone (``scheduler.timezone``).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from tracker.alerts.match import matched_rule
from tracker.alerts.render import Labels, SafeLabels, isolate_latin
from tracker.telegram import keyboards as kb
from tracker.telegram.buttons import press
from tracker.telegram.keyboards import Catalogue, Choice
from tracker.telegram.operator import feeds_text, stats_text
from tracker.telegram.ports import BotStore, Rule, Subscriber
from tracker.telegram.texts import LANGS, join, pick_lang, say
from tracker.text.normalize import match_key

log = logging.getLogger(__name__)
MAX_MUTE = timedelta(days=365)
_PERIOD = re.compile(r"^\s*(\d{1,12})\s*(m|min|h|d|w)?\s*$", re.IGNORECASE)
_UNIT = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

Context = ContextTypes.DEFAULT_TYPE


class PeriodTooLong(ValueError):
    """A /mute period beyond :data:`MAX_MUTE`."""


def parse_period(text: str) -> timedelta | None:
    """``2h``, ``1d``, ``30m``, ``1w`` (a bare number is hours); None when unreadable;
    :class:`PeriodTooLong` beyond a year (checked before any date arithmetic)."""
    m = _PERIOD.match(text)
    if not m or int(m.group(1)) <= 0:
        return None
    seconds = int(m.group(1)) * _UNIT[(m.group(2) or "h").lower()]
    if seconds > MAX_MUTE.total_seconds():
        raise PeriodTooLong(text)
    return timedelta(seconds=seconds)


class Handlers:
    """The bot's behaviour; PTB calls the ``on_*`` methods."""

    def __init__(self, store: BotStore, labels: Labels, now_fn: Callable[[], datetime], *,
                 entities: Sequence[tuple[str, str, str]],
                 event_types: Sequence[tuple[str, str, str]],
                 admins: Sequence[str] = (), timezone: str = "UTC",
                 feedback: str = "admins") -> None:
        self.store = store
        self.labels: Labels = SafeLabels(labels)
        self.now = now_fn
        self.catalogue = Catalogue([Choice("entity", i, ar, en) for i, ar, en in entities],
                                   [Choice("event", i, ar, en) for i, ar, en in event_types])
        self.admins = frozenset(str(a) for a in admins)
        self.tz = ZoneInfo(timezone)
        self.feedback = feedback
        self._by_key: dict[str, Choice] = {}
        for c in [*self.catalogue.event_types, *self.catalogue.entities]:
            for name in (c.id, c.ar, c.en, c.id.replace("_", " ")):
                self._by_key.setdefault(match_key(name), c)

    # --- helpers ----------------------------------------------------------------------
    def resolve(self, text: str) -> Choice | None:
        """The entity or event type a typed name means."""
        return self._by_key.get(match_key(text))

    def resolve_rule(self, text: str) -> Rule | None:
        """A typed rule: one name (entity or event type), or an entity and an event type."""
        one = self.resolve(text)
        if one is not None:
            return (one.id, None) if one.kind == "entity" else (None, one.id)
        words = text.split()
        for cut in range(1, len(words)):
            a, b = self.resolve(" ".join(words[:cut])), self.resolve(" ".join(words[cut:]))
            if a and b and {a.kind, b.kind} == {"entity", "event"}:
                entity, event = (a, b) if a.kind == "entity" else (b, a)
                return entity.id, event.id
        return None

    def local(self, when: datetime) -> str:
        return when.astimezone(self.tz).strftime("%Y-%m-%d %H:%M ") + str(self.tz)

    async def _who(self, update: Update) -> tuple[str, str, Subscriber | None]:
        chat = update.effective_chat
        assert chat is not None
        chat_id = str(chat.id)
        sub = await asyncio.to_thread(self.store.get_subscriber, chat_id)
        user = update.effective_user
        lang = sub.lang if sub else pick_lang(user.language_code if user else None)
        return chat_id, lang, sub

    @staticmethod
    async def _reply(update: Update, text: str,
                     markup: InlineKeyboardMarkup | None = None) -> None:
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                disable_web_page_preview=True)

    @staticmethod
    async def _edit(update: Update, text: str | None,
                    markup: InlineKeyboardMarkup | None) -> None:
        """Re-render the message the tapped button sits under (text and/or keyboard)."""
        query = update.callback_query
        assert query is not None
        try:
            if text is None:
                await query.edit_message_reply_markup(reply_markup=markup)
            else:
                await query.edit_message_text(text, parse_mode=ParseMode.HTML,
                                              reply_markup=markup,
                                              disable_web_page_preview=True)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    def rules_text(self, sub: Subscriber, lang: str) -> str:
        """/list: every rule on its own line, then mode, mute and sound settings."""
        lines = [say("rules_header", lang)]
        lines += [f"• {html.escape(self.catalogue.rule_label(r, lang))}"
                  for r in kb.sorted_rules(sub.rules)] or [say("nothing_watched", lang)]
        lines.append("")
        lines.append(say("list_mode", lang, mode=say(f"mode_{sub.mode}", lang)))
        if sub.muted_until is not None and sub.muted_until > self.now():
            lines.append(say("muted_until", lang, until=self.local(sub.muted_until)).strip())
        if sub.quiet_low:
            lines.append(say("quiet_state_on", lang).strip())
        return "\n".join(lines)

    async def _need_subscriber(self, update: Update) -> tuple[str, str, Subscriber] | None:
        chat_id, lang, sub = await self._who(update)
        if sub is None:
            await self._reply(update, say("not_subscribed", lang))
            return None
        return chat_id, lang, sub

    # --- subscribing ------------------------------------------------------------------
    async def on_start(self, update: Update, context: Context) -> None:
        chat_id, lang, _ = await self._who(update)
        new = await asyncio.to_thread(self.store.subscribe, chat_id, lang, self.now())
        payload = (context.args or [""])[0]
        if payload.startswith("watch_"):
            rule = self.resolve_rule(payload[len("watch_"):].replace("__", " "))
            if rule is not None:
                await asyncio.to_thread(self.store.add_rule, chat_id, rule)
                greeting = say("welcome" if new else "welcome_back", lang)
                label = html.escape(self.catalogue.rule_label(rule, lang))
                await self._reply(update, greeting + "\n\n" +
                                  say("deep_link_added", lang, label=label))
                return
        await self._reply(update, say("welcome" if new else "welcome_back", lang))

    async def on_help(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        await self._reply(update, say("help", lang))

    async def on_lang(self, update: Update, context: Context) -> None:
        chat_id, lang, sub = await self._who(update)
        wanted = (context.args or [""])[0].lower()[:2]
        if not wanted:
            await self._reply(update, say("lang_pick", lang), kb.languages(lang))
            return
        if wanted not in LANGS:
            await self._reply(update, say("lang_usage", lang))
            return
        await self._set_lang(chat_id, sub, wanted)
        await self._reply(update, say("lang_set", wanted))

    async def _set_lang(self, chat_id: str, sub: Subscriber | None, wanted: str) -> None:
        if sub is None:
            await asyncio.to_thread(self.store.subscribe, chat_id, wanted, self.now())
        await asyncio.to_thread(self.store.update_subscriber, chat_id, lang=wanted)

    async def on_stop(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        await self._reply(update, say("stop_confirm", lang), kb.stop_confirmation(lang))

    # --- watch rules ------------------------------------------------------------------
    async def on_watch(self, update: Update, context: Context) -> None:
        found = await self._need_subscriber(update)
        if found is None:
            return
        chat_id, lang, _ = found
        text = " ".join(context.args or [])
        if not text:
            await self._reply(update, say("watch_pick", lang), kb.watch_menu(lang))
            return
        await self._reply(update, await self._typed(chat_id, lang, text, add=True))

    async def on_unwatch(self, update: Update, context: Context) -> None:
        found = await self._need_subscriber(update)
        if found is None:
            return
        chat_id, lang, sub = found
        text = " ".join(context.args or [])
        if text:
            await self._reply(update, await self._typed(chat_id, lang, text, add=False))
            return
        if not sub.rules:
            await self._reply(update, say("nothing_watched", lang))
            return
        await self._reply(update, say("unwatch_pick", lang),
                          kb.unwatch_list(self.catalogue, sub.rules, lang))

    async def _typed(self, chat_id: str, lang: str, text: str, *, add: bool) -> str:
        rule = self.resolve_rule(text)
        if rule is None:
            return say("unknown_item", lang, text=html.escape(text[:100]))
        label = html.escape(self.catalogue.rule_label(rule, lang))
        change = self.store.add_rule if add else self.store.remove_rule
        done = await asyncio.to_thread(change, chat_id, rule)
        if add:
            return say("watch_added" if done else "watch_exists", lang, label=label)
        return say("unwatch_done" if done else "unwatch_missing", lang, label=label)

    async def on_list(self, update: Update, context: Context) -> None:
        found = await self._need_subscriber(update)
        if found is not None:
            _, lang, sub = found
            await self._reply(update, self.rules_text(sub, lang))

    async def on_mode(self, update: Update, context: Context) -> None:
        found = await self._need_subscriber(update)
        if found is None:
            return
        chat_id, lang, sub = found
        mode = (context.args or [""])[0].lower()
        if not mode:
            await self._reply(update, say("mode_pick", lang), kb.modes(sub.mode, lang))
            return
        if mode not in kb.MODES:
            await self._reply(update, say("mode_usage", lang))
            return
        await asyncio.to_thread(self.store.update_subscriber, chat_id, mode=mode)
        await self._reply(update, say("mode_set", lang, mode=say(f"mode_{mode}", lang)))

    async def on_mute(self, update: Update, context: Context) -> None:
        found = await self._need_subscriber(update)
        if found is None:
            return
        chat_id, lang, sub = found
        arg = (context.args or [""])[0].lower()
        if not arg:
            muted = sub.muted_until is not None and sub.muted_until > self.now()
            await self._reply(update, say("mute_pick", lang), kb.mutes(muted, lang))
            return
        await self._reply(update, await self._mute(chat_id, lang, arg))

    async def _mute(self, chat_id: str, lang: str, arg: str) -> str:
        if arg in ("off", "0", "إلغاء"):
            await asyncio.to_thread(self.store.update_subscriber, chat_id, unmute=True)
            return say("mute_off", lang)
        try:
            period = parse_period(arg)
        except PeriodTooLong:
            return say("mute_too_long", lang, days=MAX_MUTE.days)
        if period is None:
            return say("mute_usage", lang)
        until = self.now() + period
        await asyncio.to_thread(self.store.update_subscriber, chat_id, muted_until=until)
        return say("mute_set", lang, until=self.local(until))

    async def on_quiet(self, update: Update, context: Context) -> None:
        found = await self._need_subscriber(update)
        if found is None:
            return
        chat_id, lang, _ = found
        arg = (context.args or [""])[0].lower()
        if arg not in ("on", "off"):
            await self._reply(update, say("quiet_usage", lang))
            return
        await asyncio.to_thread(self.store.update_subscriber, chat_id, quiet_low=arg == "on")
        await self._reply(update, say(f"quiet_{arg}", lang))

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
        entries = await asyncio.to_thread(self.store.recent, 10, entity.id if entity else None)
        about = say("timeline_about", lang, label=html.escape(entity.label(lang))) \
            if entity else ""
        lines = [say("timeline_header", lang, about=about)]
        if not entries:
            lines.append(say("timeline_empty", lang))
        for entry in entries:
            ev = entry.event
            headline = html.escape((isolate_latin(ev.headline) if lang == "ar"
                                    else ev.headline)[:300])
            url = next((s.url for s in entry.sources if s.url), None)
            if url:
                headline = f'<a href="{html.escape(url, quote=True)}">{headline}</a>'
            date = ev.event_date.value if ev.event_date else \
                ev.first_seen.astimezone(self.tz).date().isoformat()
            outlets = len({s.outlet for s in entry.sources}) or ev.source_count
            lines.append(f"• {html.escape(date)} — <b>"
                         f"{html.escape(self.labels.labels(ev.type, lang))}</b>: {headline} "
                         f"{say('timeline_outlets', lang, n=outlets)}")
        await self._reply(update, "\n".join(lines))

    # --- anything else ----------------------------------------------------------------
    async def on_unknown_command(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        message = update.effective_message
        command = (message.text or "").split()[0].split("@")[0] if message else "?"
        await self._reply(update, say("unknown_command", lang,
                                      command=html.escape(command[:40])))

    async def on_text(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return  # in groups people talk to each other, not to the bot
        _, lang, _ = await self._who(update)
        await self._reply(update, say("plain_text", lang))

    # --- buttons ----------------------------------------------------------------------
    async def on_button(self, update: Update, context: Context) -> None:
        await press(self, update)

    # --- operators --------------------------------------------------------------------
    def is_admin(self, update: Update) -> bool:
        chat, user = update.effective_chat, update.effective_user
        ids = {str(chat.id) if chat else "", str(user.id) if user else ""}
        return bool(ids & self.admins)

    async def on_stats(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        if not self.is_admin(update):
            await self._reply(update, say("not_admin", lang))
            return

        def gather() -> tuple[list[tuple[str, str]], list[tuple[int, str, str, str]]]:
            return self.store.stats(), self.store.failed(5)

        stats, failed = await asyncio.to_thread(gather)
        await self._reply(update, stats_text(stats, failed))

    async def on_feeds(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        if not self.is_admin(update):
            await self._reply(update, say("not_admin", lang))
            return
        feeds = await asyncio.to_thread(self.store.feed_statuses)
        await self._reply(update, feeds_text(feeds, self.now()))

    async def on_broadcast(self, update: Update, context: Context) -> None:
        _, lang, _ = await self._who(update)
        if not self.is_admin(update):
            await self._reply(update, say("not_admin", lang))
            return
        text = " ".join(context.args or []).strip()
        if not text:
            await self._reply(update, say("broadcast_usage", lang))
            return
        queued = await asyncio.to_thread(self.store.queue_broadcast, text, self.now())
        await self._reply(update, say("broadcast_done", lang, n=queued))

    async def on_error(self, update: object, context: Context) -> None:
        chat_id: Any = None
        if isinstance(update, Update) and update.effective_chat is not None:
            chat_id = update.effective_chat.id
        log.error("bot_handler_error", exc_info=context.error, extra={"chat_id": chat_id})

    # --- evidence ---------------------------------------------------------------------
    async def evidence(self, event_id: str, lang: str, sub: Subscriber | None) -> str:
        found = await asyncio.to_thread(self.store.get_event, int(event_id)) \
            if event_id.isdigit() else None
        if found is None:
            return say("evidence_gone", lang)
        event, sentences = found
        lines = [say("evidence_title", lang)]
        if sub is not None:
            rule = matched_rule(event.type, (e.id for e in event.entities), sub.rules)
            if rule is not None:
                lines.append(say("matched_rule", lang, rule=html.escape(
                    self.catalogue.rule_label(rule, lang))))
        lines.append(join([f"<i>{html.escape(p)}</i>" for p in event.evidence], lang))
        lines += [f"«{html.escape(s[:500])}»" for s in sentences[:5]]
        while len("\n".join(lines)) > 4000 and len(lines) > 2:
            lines.pop()
        return "\n".join(lines)
