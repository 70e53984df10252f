"""Where detected events go on the timeline. Pure.

- :mod:`.identity` — what makes two mentions one real-world event (``same_event``);
- :mod:`.placement` — one item's mentions collapsed, then joined, created or linked;
- :mod:`.figures` — figures with their unit, read from an event sentence;
- :mod:`.time` — event dates as intervals, publication times as the fallback;
- :mod:`.legacy` — the placement rules before identity, the evaluation's baseline;
- :mod:`.bcubed` — B-cubed precision and recall of a clustering.
"""

from __future__ import annotations

from tracker.timeline.identity import Mention, Verdict, follow_up, mention, of_event, same_event
from tracker.timeline.legacy import find_same, follow_up_of, main_entities
from tracker.timeline.placement import Placement, collapse, place
from tracker.timeline.time import date_span, date_start, event_time, window

__all__ = [
    "Mention", "Placement", "Verdict", "collapse", "date_span", "date_start", "event_time",
    "find_same", "follow_up", "follow_up_of", "main_entities", "mention", "of_event", "place",
    "same_event", "window",
]
