"""What a tap on an inline button does (payloads in :mod:`tracker.telegram.keyboards`).

Order of decisions for one tap:

1. ``ev:`` (evidence) works for anyone: a reply in a private chat, a pop-up for the one who
   pressed it in a channel or group;
2. ``fb:`` (feedback on an alert) only for operators, or for subscribers when
   ``telegram.feedback = "subscribers"``; it is stored through the BotStore and the alert's
   keyboard is edited in place (types to pick from, then back to the alert's buttons);
3. ``l:`` (language) works before subscribing (it subscribes, like /lang);
4. everything else needs a subscriber; the message under the button is edited in place with
   the new state, and the tap is answered with at most a short toast — never a new post.
"""

from __future__ import annotations

import asyncio
import html
import re
from typing import TYPE_CHECKING

from telegram import Update

from tracker.telegram import keyboards as kb
from tracker.telegram.texts import LANGS, say

if TYPE_CHECKING:
    from tracker.telegram.handlers import Handlers


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def press(h: Handlers, update: Update) -> None:
    query = update.callback_query
    assert query is not None
    chat_id, lang, sub = await h._who(update)
    data = query.data or ""
    head, _, rest = data.partition(":")
    if head == "ev":
        text = await h.evidence(rest, lang, sub)
        chat = update.effective_chat
        if chat is not None and chat.type == "private":
            await query.answer()
            await h._reply(update, text)
        else:  # a channel or group: show it to the one who pressed, not to everyone
            await query.answer(_plain(text)[:200], show_alert=True)
        return
    if head == "fb":
        await _feedback(h, update, chat_id, lang, sub is not None and sub.active, rest)
        return
    if head == "l" and rest in LANGS:
        await h._set_lang(chat_id, sub, rest)
        await query.answer()
        await h._edit(update, say("lang_set", rest), kb.languages(rest))
        return
    if sub is None:
        await query.answer(say("not_subscribed", lang), show_alert=True)
        return
    if head == "stop":
        await query.answer()
        if rest == "yes":
            await asyncio.to_thread(h.store.forget, chat_id)
            await h._edit(update, say("stopped", lang), None)
        else:
            await h._edit(update, say("stop_kept", lang), None)
        return
    if head == "m" and rest in kb.MODES:
        await asyncio.to_thread(h.store.update_subscriber, chat_id, mode=rest)
        await query.answer()
        await h._edit(update, say("mode_set", lang, mode=say(f"mode_{rest}", lang)),
                      kb.modes(rest, lang))
        return
    if head == "mu":
        text = await h._mute(chat_id, lang, rest)
        await query.answer()
        await h._edit(update, text, None)
        return
    if head == "w":
        await query.answer()
        await _navigate(h, update, lang, sub.rules, rest)
        return
    if head in ("w+", "u-"):
        await _toggle(h, update, chat_id, lang, head, rest)
        return
    await query.answer()


async def _navigate(h: Handlers, update: Update, lang: str,
                    rules: frozenset[tuple[str | None, str | None]], rest: str) -> None:
    """Show another page of the watch flow in place."""
    cat = h.catalogue
    parts = rest.split(":")
    page = int(parts[-1]) if parts[-1].isdigit() else 0
    if parts[0] == "menu":
        await h._edit(update, say("watch_pick", lang), kb.watch_menu(lang))
    elif parts[0] == "done":
        sub = await asyncio.to_thread(h.store.get_subscriber, str(update.effective_chat.id)) \
            if update.effective_chat else None
        await h._edit(update, h.rules_text(sub, lang) if sub else say("stopped", lang), None)
    elif parts[0] in ("e", "t"):
        await h._edit(update, say("watch_pick", lang),
                      kb.single_page(cat, parts[0], page, rules, lang))
    elif parts[0] == "p":
        await h._edit(update, say("pick_pair_entity", lang),
                      kb.pair_entities(cat, page, rules, lang))
    elif parts[0] == "pt" and len(parts) == 3:
        label = html.escape(cat.find("entity", parts[1]).label(lang))
        await h._edit(update, say("pick_pair_event", lang, entity=label),
                      kb.pair_types(cat, parts[1], page, rules, lang))


async def _toggle(h: Handlers, update: Update, chat_id: str, lang: str, head: str,
                  rest: str) -> None:
    """Add (``w+``, a toggle: tapping a ✅ one removes it) or remove (``u-``) a rule, then
    re-render the keyboard it came from with the new ✅ states."""
    query = update.callback_query
    assert query is not None
    key, _, page_s = rest.rpartition(":") if head == "w+" else (rest, "", "0")
    rule = kb.parse_rule_key(key)
    if rule is None:
        await query.answer()
        return
    sub = await asyncio.to_thread(h.store.get_subscriber, chat_id)
    followed = sub is not None and rule in sub.rules
    label = h.catalogue.rule_label(rule, lang)
    if head == "w+" and not followed:
        await asyncio.to_thread(h.store.add_rule, chat_id, rule)
        toast = say("watch_added", lang, label=label)
    else:
        await asyncio.to_thread(h.store.remove_rule, chat_id, rule)
        toast = say("unwatch_done", lang, label=label)
    await query.answer(_plain(toast)[:190])
    sub = await asyncio.to_thread(h.store.get_subscriber, chat_id)
    rules = sub.rules if sub is not None else frozenset()
    page = int(page_s) if page_s.isdigit() else 0
    if head == "u-":
        markup = kb.unwatch_list(h.catalogue, rules, lang) if rules else None
        await h._edit(update, say("unwatch_pick", lang) if rules
                      else say("nothing_watched", lang), markup)
    elif rule[0] and rule[1]:
        await h._edit(update, None, kb.pair_types(h.catalogue, rule[0], page, rules, lang))
    else:
        await h._edit(update, None, kb.single_page(h.catalogue, "e" if rule[0] else "t", page,
                                                   rules, lang))


async def _feedback(h: Handlers, update: Update, chat_id: str, lang: str, subscriber: bool,
                    rest: str) -> None:
    """👍 / 👎 / another type under an alert, for those allowed to judge."""
    query = update.callback_query
    assert query is not None
    allowed = h.is_admin(update) or (h.feedback == "subscribers" and subscriber)
    if not allowed:
        await query.answer(say("not_admin", lang), show_alert=True)
        return
    verb, _, tail = rest.partition(":")
    event_s, _, new_type = tail.partition(":")
    if not event_s.isdigit():
        await query.answer()
        return
    event_id = int(event_s)
    if verb == "ty":
        await query.answer(say("fb_pick_type", lang))
        await h._edit(update, None, kb.feedback_types(h.catalogue, event_id, lang))
        return
    if verb == "back":
        await query.answer()
        await h._edit(update, None, kb.alert_buttons(event_id, lang, feedback=True))
        return
    verdict = {"ok": "confirm", "no": "not_event", "set": "other_type"}.get(verb)
    if verdict is None or (verdict == "other_type" and not new_type):
        await query.answer()
        return
    try:
        await asyncio.to_thread(h.store.record_feedback, event_id, verdict,
                                new_type=new_type or None, chat_id=chat_id, now=h.now())
    except Exception:  # the event is gone, or the label cannot be stored
        await query.answer(say("fb_gone", lang), show_alert=True)
        return
    await query.answer(say("fb_thanks", lang))
    if verb == "set":
        await h._edit(update, None, kb.alert_buttons(event_id, lang, feedback=True))
