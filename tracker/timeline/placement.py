"""Where a mention goes on the timeline, using :mod:`tracker.timeline.identity`. Pure.

Order of decisions for the events one item reports (:func:`collapse`, then :func:`place`):

1. within the item, mentions that :func:`~tracker.timeline.identity.same_event` joins with
   ``same_item`` (a title and its summary, two sentences of one story) are one mention: the
   first non-background one, with the others' entities, date and evidence;
2. the mention joins the candidate timeline event it is the same event as; of several, one
   sharing a named company or product, then the one whose event sentences are most alike,
   then the closest in time;
3. otherwise a background mention (a clause recalling something as context: «بعد أشهر من توقف
   المبيعات») is dropped — it never creates an event nor an alert;
4. otherwise it becomes a new timeline event, linked (``follow_up_of``) to the latest earlier
   candidate it is a new development of (:func:`~tracker.timeline.identity.follow_up`),
   one of its own type before one of a type it may follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from tracker.model import DetectedEvent, EntityRef, TimelineEvent
from tracker.timeline.identity import Mention, Verdict, follow_up, mention, same_event


@dataclass(frozen=True)
class Placement:
    """The decision for one mention: join ``event``, or create (maybe following up)."""

    event: TimelineEvent | None  # the event joined, None for a new one
    verdict: Verdict | None  # why it joined (None: it did not)
    follows: TimelineEvent | None = None  # a new event's predecessor
    follow_reason: str | None = None
    dropped: bool = False  # a background mention that joined nothing


def _merged(events: Sequence[DetectedEvent], title: str = "") -> DetectedEvent:
    primary = next((e for e in events if not e.background), events[0])
    # a headline sums up its body: when every body sentence of the event recalls it, so does
    # the item, whatever the (verbless, undated) headline says
    body = [e for e in events if not title or e.sentence.strip() != title.strip()]
    recap = primary.recap or (len(body) < len(events) and bool(body)
                              and all(e.recap for e in body))
    seen: dict[str, EntityRef] = {}
    for e in (primary, *events):
        for ref in e.entities:
            seen.setdefault(ref.id, ref)
    evidence = tuple(dict.fromkeys(p for e in (primary, *events) for p in e.evidence))
    date = primary.event_date or next((e.event_date for e in events if e.event_date), None)
    status = primary.status
    if status == "reported" and any(e.status == "confirmed" for e in events):
        status = "confirmed"
    return replace(primary, entities=tuple(seen.values()), event_date=date, evidence=evidence,
                   status=status, recap=recap, background=all(e.background for e in events),
                   confidence=max(e.confidence for e in events))


def collapse(events: Sequence[DetectedEvent], published: datetime | None,
             first_seen: datetime, title: str = "") -> list[tuple[DetectedEvent, Mention]]:
    """One item's events as the distinct events it reports: (merged event, its mention).
    An event the headline (``title``) and body sentences report is a recap when every body
    sentence reporting it is one.

    The merged mention reads every member's sentence and the products of the leading
    member when it names any ("H200 … newer than the H20" is about the H200)."""
    mentions = [mention(e, published, first_seen) for e in events]
    headline = [bool(title.strip()) and e.sentence.strip() == title.strip() for e in events]
    groups: list[list[int]] = []
    # body sentences first, then the headline: a headline that joins no body news but would
    # join the body's recap of one event (it sums that recap up) joins the recap
    for i in sorted(range(len(events)), key=lambda n: (headline[n], n)):
        m = mentions[i]
        home = next((g for g in groups
                     if all(same_event(mentions[j], m, same_item=True).joined for j in g)), None)
        if home is None and headline[i] and not m.recap:
            recalled = replace(m, recap=True)
            home = next((g for g in groups if all(
                same_event(mentions[j], recalled, same_item=True).joined for j in g)), None)
        if home is None:
            groups.append([i])
        else:
            home.append(i)
    groups = sorted((sorted(g) for g in groups), key=lambda g: g[0])
    out = []
    for g in groups:
        if len(g) == 1:
            out.append((events[g[0]], mentions[g[0]]))
            continue
        members = [events[j] for j in g]
        merged = _merged(members, title)
        lead = next((mentions[j] for j in g if not events[j].background), mentions[g[0]])
        out.append((merged, mention(
            merged, published, first_seen, tuple(dict.fromkeys(e.sentence for e in members)),
            lead.products or None)))
    return out


def place(m: Mention, candidates: Sequence[tuple[TimelineEvent, Mention]],
          near: frozenset[int] = frozenset()) -> Placement:
    """Where ``m`` goes among ``candidates`` (see the module docstring); ``near`` holds
    the ids of events whose items are near-duplicates of this mention's item."""
    best: tuple[tuple[bool, float, float], TimelineEvent, Verdict] | None = None
    for event, other in candidates:
        verdict = same_event(m, other, near_duplicate=event.id in near)
        if not verdict.joined:
            continue
        rank = (verdict.named, verdict.similarity, -abs((other.when - m.when).total_seconds()))
        if best is None or rank > best[0]:
            best = (rank, event, verdict)
    if best is not None:
        return Placement(best[1], best[2])
    if m.background:
        return Placement(None, None, dropped=True)
    # the latest earlier event it follows up: of its own type first, then of a type it
    # may follow (a revocation follows a licence)
    earlier = sorted(((e, o) for e, o in candidates if o.when <= m.when),
                     key=lambda pair: (pair[1].type == m.type, pair[1].when), reverse=True)
    for event, other in earlier:
        reason = follow_up(m, other)
        if reason is not None:
            return Placement(None, None, event, reason)
    return Placement(None, None)

