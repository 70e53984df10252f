"""The store as the Telegram edge sees it: :class:`StoreForBot` implements the Protocols of
:mod:`tracker.telegram.ports` over :class:`~tracker.store.repo.Store` (the app wires it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from tracker.model import TimelineEntry, TimelineEvent
from tracker.store import subscribers as subs
from tracker.store.repo import FeedView, Store

Rule = tuple[str | None, str | None]


class StoreForBot:
    """Every read and write the bot and the sender make, each in its own transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- the sender ---------------------------------------------------------------------
    def chat_langs(self, chat_ids: Iterable[str]) -> dict[str, str]:
        return subs.chat_langs(self.store, chat_ids)

    def get_subscriber(self, chat_id: str) -> subs.SubscriberView | None:
        return subs.get_subscriber(self.store, chat_id)

    def quiet_chats(self, chat_ids: Iterable[str]) -> set[str]:
        return subs.quiet_chats(self.store, chat_ids)

    def deactivate(self, chat_id: str, reason: str) -> int:
        return subs.deactivate(self.store, chat_id, reason)

    def events_for_rules(self, since: datetime, until: datetime,
                         rules: frozenset[Rule]) -> list[TimelineEvent]:
        return subs.events_for_rules(self.store, since, until, rules)

    def events_between(self, since: datetime, until: datetime, events: frozenset[str],
                       entities: frozenset[str]) -> list[TimelineEvent]:
        return subs.events_between(self.store, since, until, events, entities)

    def timeline(self, *, since: datetime, until: datetime) -> list[TimelineEntry]:
        return self.store.timeline(since=since, until=until, limit=None, newest_first=False)

    # --- the bot ------------------------------------------------------------------------
    def subscribe(self, chat_id: str, lang: str, now: datetime) -> bool:
        return subs.subscribe(self.store, chat_id, lang, now)

    def update_subscriber(self, chat_id: str, *, lang: str | None = None,
                          mode: str | None = None, muted_until: datetime | None = None,
                          unmute: bool = False, quiet_low: bool | None = None) -> bool:
        return subs.update_subscriber(self.store, chat_id, lang=lang, mode=mode,
                                      muted_until=muted_until, unmute=unmute,
                                      quiet_low=quiet_low)

    def add_rule(self, chat_id: str, rule: Rule) -> bool:
        return subs.add_rule(self.store, chat_id, *subs.rule_row(rule))

    def remove_rule(self, chat_id: str, rule: Rule) -> bool:
        return subs.remove_rule(self.store, chat_id, *subs.rule_row(rule))

    def forget(self, chat_id: str) -> bool:
        return subs.forget(self.store, chat_id)

    def get_event(self, event_id: int) -> tuple[TimelineEvent, list[str]] | None:
        return subs.get_event(self.store, event_id)

    def recent(self, limit: int, entity: str | None) -> list[TimelineEntry]:
        return self.store.timeline(entity=entity, limit=limit)

    def stats(self) -> list[tuple[str, str]]:
        lines = [(k, str(v)) for k, v in self.store.counts().items()]
        lines += [(f"subscribers_{k}", str(v))
                  for k, v in sorted(subs.subscriber_counts(self.store).items())]
        lines += [(f"outbox {k}", str(v))
                  for k, v in sorted(subs.outbox_states(self.store).items())]
        lines.append(("outbox delivered_unconfirmed", str(subs.unconfirmed_count(self.store))))
        return lines

    def failed(self, limit: int) -> list[tuple[int, str, str, str]]:
        return subs.failed_messages(self.store, limit)

    def feed_statuses(self) -> Sequence[FeedView]:
        return self.store.feeds()

    def queue_broadcast(self, text: str, now: datetime) -> int:
        return subs.queue_broadcast(self.store, text, now)

    def record_feedback(self, event_id: int, verdict: str, *, new_type: str | None,
                        chat_id: str, now: datetime) -> int:
        return self.store.record_event_feedback(event_id, verdict, new_type=new_type,
                                                source="telegram", chat_id=chat_id, now=now)
