"""The bot's inline keyboards and the labels of watch rules. Pure: data in, markup out.

Every keyboard is edited in place when a button is tapped (the handler re-renders it with the
new state), shows ✅ on what is chosen, and has ↩ back / ✔ done where it is part of a flow.

Button payloads (``callback_data``, at most 64 bytes):

* ``w:menu`` the watch menu; ``w:e:<page>`` / ``w:t:<page>`` a page of entities / event types
  (each a rule with "any" on the other side); ``w:p:<page>`` entities to combine with a type;
  ``w:pt:<entity>:<page>`` the types for that entity; ``w:done`` closes the keyboard;
* ``w+:e:<id>:<page>``, ``w+:t:<id>:<page>``, ``w+:p:<entity>|<type>:<page>`` toggle a rule;
* ``u-:e:<id>``, ``u-:t:<id>``, ``u-:p:<entity>|<type>`` remove a rule (the /unwatch list);
* ``m:<mode>``, ``l:<lang>``, ``mu:<period>`` / ``mu:off``, ``q:on`` / ``q:off``;
* ``stop:yes`` / ``stop:no`` the /stop confirmation;
* ``ev:<event id>`` the evidence of an alert; ``fb:ok|no|ty:<event id>`` feedback,
  ``fb:set:<event id>:<type>`` the corrected type, ``fb:back:<event id>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tracker.telegram.ports import Rule
from tracker.telegram.texts import say

PAGE = 12
MODES = ("instant", "daily", "weekly")
MUTES = ("1h", "8h", "1d", "1w")
MAX_DATA = 64


@dataclass(frozen=True)
class Choice:
    """Something a subscriber can watch: ``kind`` is ``entity`` or ``event``."""

    kind: str
    id: str
    ar: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.ar


@dataclass(frozen=True)
class Catalogue:
    """The entities and event types people pick from, with their labels."""

    entities: Sequence[Choice]
    event_types: Sequence[Choice]

    def find(self, kind: str, value: str) -> Choice:
        pool = self.entities if kind == "entity" else self.event_types
        return next((c for c in pool if c.id == value), Choice(kind, value, value, value))

    def rule_label(self, rule: Rule, lang: str) -> str:
        """"Huawei — any event", "any company — Export permit", "Nvidia — Export permit"."""
        entity, event = rule
        left = self.find("entity", entity).label(lang) if entity else say("any_entity", lang)
        right = self.find("event", event).label(lang) if event else say("any_event", lang)
        return say("rule_line", lang, entity=left, event=right)


def rule_key(rule: Rule) -> str:
    """``e:<id>``, ``t:<id>`` or ``p:<entity>|<type>``: a rule inside a payload."""
    entity, event = rule
    if entity and event:
        return f"p:{entity}|{event}"
    return f"e:{entity}" if entity else f"t:{event}"


def parse_rule_key(key: str) -> Rule | None:
    kind, _, value = key.partition(":")
    if kind == "e" and value:
        return value, None
    if kind == "t" and value:
        return None, value
    if kind == "p":
        entity, _, event = value.partition("|")
        if entity and event:
            return entity, event
    return None


def sorted_rules(rules: frozenset[Rule]) -> list[Rule]:
    """Entities first, then types, then combinations; alphabetical within each."""
    return sorted(rules, key=lambda r: (r[0] is None, r[1] is not None and r[0] is not None,
                                        r[0] or "", r[1] or ""))


def _button(text: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > MAX_DATA:
        raise ValueError(f"callback data over {MAX_DATA} bytes: {data!r}")
    return InlineKeyboardButton(text, callback_data=data)


def _nav(prefix: str, page: int, total: int, lang: str, back: str) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(_button("«", f"{prefix}{page - 1}"))
    row.append(_button(say("back", lang), back))
    row.append(_button(say("done", lang), "w:done"))
    if (page + 1) * PAGE < total:
        row.append(_button("»", f"{prefix}{page + 1}"))
    return row


def _grid(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def watch_menu(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [_button(say("pick_entities", lang), "w:e:0")],
        [_button(say("pick_events", lang), "w:t:0")],
        [_button(say("pick_pairs", lang), "w:p:0")],
        [_button(say("done", lang), "w:done")]])


def _mark(on: bool, text: str) -> str:
    return f"✅ {text}" if on else text


def single_page(cat: Catalogue, kind: str, page: int, rules: frozenset[Rule],
                lang: str) -> InlineKeyboardMarkup:
    """A page of entities (``kind="e"``) or event types (``"t"``), ✅ on the followed ones."""
    pool = cat.entities if kind == "e" else cat.event_types
    chunk = pool[page * PAGE:(page + 1) * PAGE]
    buttons = []
    for c in chunk:
        rule: Rule = (c.id, None) if kind == "e" else (None, c.id)
        data = f"w+:{kind}:{c.id}:{page}"
        if len(data.encode()) <= MAX_DATA:
            buttons.append(_button(_mark(rule in rules, c.label(lang)), data))
    rows = _grid(buttons)
    rows.append(_nav(f"w:{kind}:", page, len(pool), lang, "w:menu"))
    return InlineKeyboardMarkup(rows)


def pair_entities(cat: Catalogue, page: int, rules: frozenset[Rule],
                  lang: str) -> InlineKeyboardMarkup:
    """Entities to combine with an event type; ✅ on those that already have a combination."""
    with_pairs = {e for e, t in rules if e and t}
    chunk = cat.entities[page * PAGE:(page + 1) * PAGE]
    buttons = [_button(_mark(c.id in with_pairs, c.label(lang)), f"w:pt:{c.id}:0")
               for c in chunk if len(f"w:pt:{c.id}:0".encode()) <= MAX_DATA]
    rows = _grid(buttons)
    rows.append(_nav("w:p:", page, len(cat.entities), lang, "w:menu"))
    return InlineKeyboardMarkup(rows)


def pair_types(cat: Catalogue, entity: str, page: int, rules: frozenset[Rule],
               lang: str) -> InlineKeyboardMarkup:
    """The event types for ``entity``, ✅ on the combinations followed."""
    chunk = cat.event_types[page * PAGE:(page + 1) * PAGE]
    buttons = []
    for c in chunk:
        data = f"w+:p:{entity}|{c.id}:{page}"
        if len(data.encode()) <= MAX_DATA:
            buttons.append(_button(_mark((entity, c.id) in rules, c.label(lang)), data))
    rows = _grid(buttons)
    rows.append(_nav(f"w:pt:{entity}:", page, len(cat.event_types), lang, "w:p:0"))
    return InlineKeyboardMarkup(rows)


def unwatch_list(cat: Catalogue, rules: frozenset[Rule], lang: str) -> InlineKeyboardMarkup:
    rows = [[_button("✖ " + cat.rule_label(r, lang), f"u-:{rule_key(r)}")]
            for r in sorted_rules(rules) if len(f"u-:{rule_key(r)}".encode()) <= MAX_DATA]
    rows.append([_button(say("done", lang), "w:done")])
    return InlineKeyboardMarkup(rows)


def modes(current: str, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(_mark(m == current, say(f"mode_{m}", lang)),
                                          f"m:{m}")] for m in MODES])


def languages(current: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(_mark(current == "ar", "العربية"), "l:ar"),
                                  _button(_mark(current == "en", "English"), "l:en")]])


def mutes(muted: bool, lang: str) -> InlineKeyboardMarkup:
    rows = [[_button(say(f"mute_{p}", lang), f"mu:{p}") for p in MUTES[:2]],
            [_button(say(f"mute_{p}", lang), f"mu:{p}") for p in MUTES[2:]]]
    if muted:
        rows.append([_button(say("mute_cancel", lang), "mu:off")])
    return InlineKeyboardMarkup(rows)


def stop_confirmation(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(say("stop_yes", lang), "stop:yes")],
                                 [_button(say("stop_no", lang), "stop:no")]])


def alert_buttons(event_id: int, lang: str, *, feedback: bool) -> InlineKeyboardMarkup:
    """Under an alert: the evidence, and for those asked to judge, 👍 / 👎 / another type."""
    rows = [[_button(say("evidence_button", lang), f"ev:{event_id}")]]
    if feedback:
        rows.append([_button(say("fb_ok", lang), f"fb:ok:{event_id}"),
                     _button(say("fb_no", lang), f"fb:no:{event_id}"),
                     _button(say("fb_type", lang), f"fb:ty:{event_id}")])
    return InlineKeyboardMarkup(rows)


def feedback_types(cat: Catalogue, event_id: int, lang: str) -> InlineKeyboardMarkup:
    buttons = [_button(c.label(lang), f"fb:set:{event_id}:{c.id}") for c in cat.event_types
               if len(f"fb:set:{event_id}:{c.id}".encode()) <= MAX_DATA]
    rows = _grid(buttons)
    rows.append([_button(say("back", lang), f"fb:back:{event_id}")])
    return InlineKeyboardMarkup(rows)
