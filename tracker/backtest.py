"""Backtest: what would the current rules make of the items already stored? Pure.

For each stored item, in order of first sight: classify it again with the current engine,
decide whether it would alert (fresh news, not a recap or denial, matching the chosen
watchlists, and the first report of its story — same type, main entities and day), and
compare with what the timeline holds for it (its event types, whether it raised an alert).
The result lists every item whose events or alert would change, and per-type counts before
and after, so an operator can try a rule change before enabling it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from tracker.alerts.match import alertable, is_fresh, match_watchlists
from tracker.model import Article, DetectedEvent, Watchlist
from tracker.store.repo import StoredItem
from tracker.timeline import event_time, main_entities


@dataclass(frozen=True)
class ItemChange:
    item: StoredItem
    before: frozenset[str]
    after: frozenset[str]
    alerted_before: bool
    alerts_after: bool
    events: tuple[DetectedEvent, ...]


@dataclass
class BacktestResult:
    items: int = 0
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)
    alerts_before: int = 0
    alerts_after: int = 0
    changes: list[ItemChange] = field(default_factory=list)


def backtest(
    stored: Sequence[tuple[StoredItem, frozenset[str], bool]],
    classify: Callable[[Article], tuple[DetectedEvent, ...]],
    watchlists: Sequence[Watchlist],
    max_age: timedelta,
) -> BacktestResult:
    """Replay ``stored`` (item, its stored event types, alerted?) through ``classify``."""
    result = BacktestResult(items=len(stored))
    alerted_stories: set[tuple[str, frozenset[str], date]] = set()
    for item, before, alerted in stored:
        events = classify(Article(item.title, item.content or item.summary,
                                  item.published or item.first_seen))
        after = frozenset(e.type for e in events)
        fresh = is_fresh(item.published, item.first_seen, max_age, first_fetch=False)
        alerts = False
        for e in events:
            if not (fresh and alertable(e) and match_watchlists(e, watchlists)):
                continue
            story = (e.type, main_entities(e.entities),
                     event_time(e, item.published, item.first_seen).date())
            if story not in alerted_stories:  # later outlets of the same story join it
                alerted_stories.add(story)
                alerts = True
        result.before.update(before)
        result.after.update(after)
        result.alerts_before += alerted
        result.alerts_after += alerts
        if before != after or alerted != alerts:
            result.changes.append(ItemChange(item, before, after, alerted, alerts, events))
    return result
