"""Why an item did or did not alert. Pure: stored facts and the config in, reasons out.

For each timeline event the item reported, the first reason that holds decides, in the order
the pipeline itself applies them (:mod:`tracker.alerts.match`):

1. ``denied`` — the item's report denies the event; denials never alert;
2. ``recap`` — the sentence recaps an older event;
3. ``backlog`` — undated and stored from the feed's first fetch;
4. ``too_old`` — first seen more than ``alerts.max_age`` after publication;
5. ``joined`` — another item reported the event first; its alert covers this one (an
   alerted event's message is updated instead of sent again);
6. ``alerted`` — alert rows exist for these chats;
7. ``muted`` — only muted subscribers wanted it;
8. ``no_watchlist`` — no watchlist and no subscriber asks for its type and entities.

An item with no event says ``duplicate`` (of item N) when ingest dropped it as a copy, else
``no_event``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.alerts.match import Rule, is_fresh, match_subscribers, match_watchlists
from tracker.model import DetectedEvent, TimelineEvent, Watchlist
from tracker.records import ItemDetail, ItemEvent

REASONS: dict[str, dict[str, str]] = {
    "en": {
        "alerted": "alerted: {chats}",
        "denied": "no alert: the item denies the event",
        "recap": "no alert: the sentence recaps an older event",
        "backlog": "no alert: undated item from the feed's first fetch (backlog)",
        "too_old": "no alert: first seen {late} after publication (alerts.max_age {max_age})",
        "joined": "no new alert: joined event #{event} first reported by {outlet}",
        "muted": "no alert: the subscribers who want it are muted ({chats})",
        "no_watchlist": "no alert: no watchlist or subscriber asks for this type and entities",
        "duplicate": "dropped at ingest: a copy of item #{item}",
        "no_event": "no event found in this item",
    },
    "ar": {
        "alerted": "أُرسل تنبيه إلى: {chats}",
        "denied": "لا تنبيه: الخبر ينفي الحدث",
        "recap": "لا تنبيه: الجملة تستعيد حدثًا سابقًا",
        "backlog": "لا تنبيه: خبر بلا تاريخ من أول جلب للمصدر (أرشيف)",
        "too_old": "لا تنبيه: رُصد بعد {late} من نشره (الحد alerts.max_age {max_age})",
        "joined": "لا تنبيه جديد: انضم إلى الحدث #{event} الذي أوردته أولًا {outlet}",
        "muted": "لا تنبيه: المشتركون المهتمون به في وضع الكتم ({chats})",
        "no_watchlist": "لا تنبيه: لا قائمة متابعة ولا مشترك يطلب هذا النوع وهذه الجهات",
        "duplicate": "حُذف عند الاستلام: نسخة من الخبر #{item}",
        "no_event": "لم يُعثر على حدث في هذا الخبر",
    },
}


@dataclass(frozen=True)
class Reason:
    code: str
    args: tuple[tuple[str, str], ...] = ()

    def text(self, lang: str = "en") -> str:
        return REASONS["ar" if lang == "ar" else "en"][self.code].format(**dict(self.args))


@dataclass(frozen=True)
class EventWhy:
    """One event of the item with the watchlists it matched and the deciding reason."""

    found: ItemEvent
    watchlists: tuple[str, ...]  # names of the config watchlists that want it
    missed: tuple[str, ...]  # names of those that do not
    reason: Reason
    why: tuple[str, ...]  # the classifier's reasons, when the current engine gives them


@dataclass(frozen=True)
class ItemWhy:
    detail: ItemDetail
    events: tuple[EventWhy, ...]
    item_reason: Reason | None  # set when the item has no event
    detected_now: tuple[DetectedEvent, ...]  # what the current rules find in it

    @property
    def alerted(self) -> bool:
        return any(e.reason.code == "alerted" for e in self.events)


def _human(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"


def _as_detected(ev: TimelineEvent, status: str, recap: bool) -> DetectedEvent:
    return DetectedEvent(ev.type, 1.0, ev.entities, ev.event_date, status,  # type: ignore[arg-type]
                         recap, ev.evidence)


Subscriber = tuple[str, frozenset[Rule], datetime | None]  # chat, watch rules, muted until


def explain_item(
    detail: ItemDetail, detected_now: Sequence[DetectedEvent],
    watchlists: Sequence[Watchlist], subscribers: Sequence[Subscriber],
    max_age: timedelta, now: datetime,
) -> ItemWhy:
    """The reasons (see the module docstring) for every event of one item."""
    item = detail.item
    out: list[EventWhy] = []
    for found in detail.events:
        ev = _as_detected(found.event, found.status, found.recap)
        wanted = {name for _chat, name in match_watchlists(ev, watchlists)}
        names = tuple(w.name for w in watchlists if w.name in wanted)
        missed = tuple(w.name for w in watchlists if w.name not in wanted)
        reason = _reason(found, item.published, item.first_seen, item.first_fetch, ev,
                         bool(names), subscribers, max_age, now)
        why: tuple[str, ...] = ()
        for d in detected_now:
            if d.type == found.event.type:
                why = tuple(getattr(d, "why", ())) or d.evidence
                break
        out.append(EventWhy(found, names, missed, reason, why))
    item_reason = None
    if not out:
        item_reason = (Reason("duplicate", (("item", str(item.duplicate_of)),))
                       if item.duplicate_of is not None else Reason("no_event"))
    return ItemWhy(detail, tuple(out), item_reason, tuple(detected_now))


def _reason(found: ItemEvent, published: datetime | None, first_seen: datetime,
            first_fetch: bool, ev: DetectedEvent, watched: bool,
            subscribers: Sequence[Subscriber], max_age: timedelta, now: datetime) -> Reason:
    if found.status == "denied":
        return Reason("denied")
    if found.recap:
        return Reason("recap")
    if not is_fresh(published, first_seen, max_age, first_fetch):
        if published is None:
            return Reason("backlog")
        return Reason("too_old", (("late", _human(first_seen - published)),
                                  ("max_age", _human(max_age))))
    if not found.first_source:
        return Reason("joined", (("event", str(found.event.id)),
                                 ("outlet", found.event.first_outlet)))
    if found.alert_chats:
        return Reason("alerted", (("chats", ", ".join(found.alert_chats)),))
    rules = list(subscribers)
    unmuted = match_subscribers(ev, rules, now)
    muted = [r for r in rules if r[2] is not None and r[2] > now]
    wanted_muted = match_subscribers(ev, [(c, r, None) for c, r, _ in muted], now)
    if not watched and not unmuted and wanted_muted:
        return Reason("muted", (("chats", ", ".join(wanted_muted)),))
    return Reason("no_watchlist")
