"""What makes two mentions one real-world event: a decision you can read. Pure.

A *mention* is one event detected in one sentence of one item (or, on the timeline side, the
event as its first reports described it). :func:`same_event` decides whether two mentions
report the same real-world event, in this order — the first rule that fails decides, and the
verdict says which, in words:

1. **Same type.** An export permit and an export restriction are two events.
2. **Compatible main entities.** When both name companies, they share one; when both name a
   product, they share one (H20 ≠ H200, Ascend 910C ≠ Ascend 950; a family, ``ascend``,
   counts as each of its members): the same company with another product is another
   event; and two sides that name companies or products share one. When neither names a
   company or product, the governments or regulators they name must agree. When only one
   side names a company or product, the sentences must be alike (rule 6) or the items
   near-duplicates. A timeline event is read as its first report named it.
3. **Compatible time.** Event dates first: when both texts date the event, the dates must
   overlap (a day may be off by one: outlets in other time zones). Publication times are only
   the fallback for a side the text does not date: it must lie within 3 days of the other
   side's day or week — or, when the other side dates a period (a month, quarter or year:
   results of "last quarter", a target for next year), inside that period or within 3 days
   of the other report's publication; two undated reports, within 3 days of each other.
   An undated recap ("كانت قد سمحت …") may recall any earlier event.
4. **Compatible status.** A plan or a rumour (planned, rumoured) and the thing happening
   (reported, confirmed) are two events, linked as a follow-up; a denial joins the event it
   denies.
5. **Compatible figures.** Numbers with their unit — chips or units, %, companies, dollars:
   500,000 vs 80,000 units, 15 % vs 25 %, 12 vs 40 companies are different events. A side
   that states no figure of that unit is no obstacle.
6. **Similar event sentences** (character 4-grams of the sentences the events were found
   in, not of whole items; the best pair over each side's reports) are supporting evidence
   only: they rank the candidates that pass rules 1–5 (after those sharing a named company
   or product) and vouch for a side that names no company or product.

Within one item (``same_item``) the title and body mentions of one event are one event: the
time rule is skipped (one item reports one moment) and so is rule 6's vouching, but news and
a recap in one item stay two events.

:func:`follow_up` says when an event that did not join is a new development of an earlier
one (plan → start, licence → revocation, preliminary → final finding): same main entities,
and the same type in another phase, time or figure, or a type that follows another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from tracker.model import DetectedEvent, EntityRef, EventDate, TimelineEvent
from tracker.text.normalize import match_key
from tracker.timeline.figures import conflicting, figures
from tracker.timeline.time import WINDOW, date_span, date_start

SIMILAR = 0.3  # rule 6: sentences this alike vouch for a side naming no company or product
_DAY_SLACK = timedelta(days=1)
_PROSPECTIVE = frozenset({"planned", "rumoured"})
_ACTUAL = frozenset({"reported", "confirmed"})
# a new event of the second type may follow up one of the first (licence → revocation)
FOLLOWS = {
    "export_restriction": ("export_permit",),
    "export_permit": ("export_restriction",),
    "mass_production": ("chip_launch",),
}


@dataclass(frozen=True)
class Verdict:
    """Whether two mentions are one event, and why (one reason per rule that was read)."""

    joined: bool
    reasons: tuple[str, ...]
    similarity: float = 0.0
    named: bool = False  # both sides name a company or product they share (strong evidence)

    def __str__(self) -> str:
        return ("joined: " if self.joined else "separate: ") + "; ".join(self.reasons)


@dataclass(frozen=True)
class Mention:
    """What identity reads of one event report (see :func:`mention` and :func:`of_event`)."""

    type: str
    companies: frozenset[str]
    products: frozenset[str]
    others: frozenset[str]  # governments, regulators, organisations (countries left out)
    event_date: EventDate | None
    when: datetime  # the start of the event date, else the publication time
    status: str
    recap: bool = False
    background: bool = False
    figures: tuple[str, ...] = ()
    sentences: tuple[str, ...] = ()  # the event sentences (display text) of its reports
    reported: datetime | None = None  # publication (else first-seen) time of its report

    @property
    def named(self) -> frozenset[str]:
        return self.companies | self.products


_WIDE: dict[str, int] = {}  # 4-grams that do not pack (see _grams): numbered as met
_PACKED_BELOW = 0xFFF0  # a packed 4-gram's first character is below this


@lru_cache(maxsize=2048)
def _grams(sentence: str) -> npt.NDArray[np.uint64]:
    """The distinct character 4-grams of a sentence's match key, each as one exact 64-bit
    code, sorted (cached: candidates recur). A few kB per sentence where a set of strings
    took tens (the cache held ~25 MB).

    A 4-gram of 16-bit characters whose first one is below U+FFF0 packs into its code;
    any other (emoji, old scripts) gets a number from the top of the range, which packed
    codes never reach, so equal 4-grams always get equal codes."""
    text = " ".join(match_key(sentence).split())
    chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(chars) < 4:
        return np.zeros(0, dtype=np.uint64)
    shift = np.uint64(16)
    packed = (((chars[:-3] << shift | chars[1:-2]) << shift | chars[2:-1]) << shift
              | chars[3:])
    wide = chars > 0xFFFF
    odd = (wide[:-3] | wide[1:-2] | wide[2:-1] | wide[3:]) | (chars[:-3] >= _PACKED_BELOW)
    for i in np.flatnonzero(odd):
        packed[i] = _WIDE.setdefault(text[i:i + 4], (1 << 64) - 1 - len(_WIDE))
    return np.unique(packed)


def _split(entities: Iterable[EntityRef]) -> tuple[frozenset[str], frozenset[str],
                                                   frozenset[str]]:
    companies, products, others = set(), set(), set()
    for e in entities:
        if e.kind == "company":
            companies.add(e.id)
        elif e.kind == "product":
            products.add(e.id)
        elif e.kind not in ("country", "person"):
            others.add(e.id)
    return frozenset(companies), frozenset(products), frozenset(others)


def mention(ev: DetectedEvent, published: datetime | None, first_seen: datetime,
            sentences: tuple[str, ...] = (), products: frozenset[str] | None = None
            ) -> Mention:
    """The mention of a detected event in an item published (or first seen) then;
    ``sentences`` and ``products`` override the event's own (one item's merged mentions:
    all their sentences, the products of the leading one)."""
    sentences = sentences or (ev.sentence,)
    companies, own_products, others = _split(ev.entities)
    start = date_start(ev.event_date) if ev.event_date else None
    found = tuple(dict.fromkeys(f for s in sentences for f in figures(match_key(s))))
    return Mention(ev.type, companies, own_products if products is None else products,
                   others, ev.event_date, start or published or first_seen, ev.status,
                   ev.recap, ev.background, found, sentences, published or first_seen)


def of_event(ev: TimelineEvent) -> Mention:
    """A timeline event as a mention: the type, entities and figures of its first report,
    its date and status, the sentences of its reports."""
    companies, products, others = _split(ev.first_entities or ev.entities)
    return Mention(ev.type, companies, products, others, ev.event_date, ev.sort_date,
                   ev.status, ev.recap, False, ev.figures, ev.sentences or (ev.sentence,),
                   ev.first_reported or ev.first_seen)


def similarity(a: Mention, b: Mention) -> float:
    """The best Jaccard similarity of character 4-grams between a sentence of ``a`` and
    one of ``b``."""
    best = 0.0
    for sa in a.sentences:
        ga = _grams(sa)
        for sb in b.sentences:
            gb = _grams(sb)
            if len(ga) and len(gb):
                shared = len(np.intersect1d(ga, gb, assume_unique=True))
                best = max(best, shared / (len(ga) + len(gb) - shared))
    return best


def _ids(ids: frozenset[str]) -> str:
    return ",".join(sorted(ids))


def _family_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """A product in common, a family counting as any of its members (``ascend`` and
    ``ascend_910c``: the gazetteer names members ``<family>_<member>``)."""
    return any(x == y or x.startswith(y + "_") or y.startswith(x + "_") for x in a for y in b)


def _entities(a: Mention, b: Mention) -> tuple[bool, str, bool]:
    """(compatible, reason, one side anonymous) for rule 2."""
    if a.companies and b.companies and not a.companies & b.companies:
        return False, f"companies differ: {_ids(a.companies)} ≠ {_ids(b.companies)}", False
    if a.products and b.products and not _family_overlap(a.products, b.products):
        return False, f"products differ: {_ids(a.products)} ≠ {_ids(b.products)}", False
    if a.named and b.named:
        if not a.companies & b.companies and not _family_overlap(a.products, b.products):
            return False, (f"no company or product in common: {_ids(a.named)} vs "
                           f"{_ids(b.named)}"), False
        return True, f"same company or product: {_ids(a.named & b.named) or 'a family'}", False
    if a.named or b.named:
        return True, "one side names no company or product", True
    if a.others and b.others and not a.others & b.others:
        return False, f"actors differ: {_ids(a.others)} ≠ {_ids(b.others)}", False
    return True, f"same actors: {_ids(a.others & b.others) or 'none named'}", False


def _span(m: Mention) -> tuple[datetime, datetime] | None:
    return date_span(m.event_date) if m.event_date else None


def _gap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> timedelta:
    return max(timedelta(0), max(a[0], b[0]) - min(a[1], b[1]))


def _time(a: Mention, b: Mention) -> tuple[bool, str]:
    """(compatible, reason) for rule 3."""
    sa, sb = _span(a), _span(b)
    if sa and sb:
        gap = _gap(sa, sb)
        slack = _DAY_SLACK if {a.event_date.precision, b.event_date.precision} <= {  # type: ignore[union-attr]
            "day", "week"} else timedelta(0)
        if gap > slack:
            return False, (f"event dates differ: {a.event_date.value} vs "  # type: ignore[union-attr]
                           f"{b.event_date.value}")  # type: ignore[union-attr]
        return True, f"event dates agree: {a.event_date.value} ~ {b.event_date.value}"  # type: ignore[union-attr]
    for undated, other in ((a, b), (b, a)):
        if undated.event_date is None and undated.recap and other.when <= undated.when:
            return True, "an undated recap of an earlier event"
    if sa or sb:
        dated, undated = (a, b) if sa else (b, a)
        span = _span(dated)
        assert span is not None and dated.event_date is not None
        if dated.event_date.precision in ("day", "week"):
            gap = _gap(span, (undated.when, undated.when))
            if gap > WINDOW[None]:
                return False, (f"reported {undated.when.date()}, {gap.days} days from the "
                               f"event date {dated.event_date.value}")
            return True, f"reported within {WINDOW[None].days} days of {dated.event_date.value}"
        # a month, quarter or year names a period (results, a target): the undated side
        # may lie in it, or the two reports may be days apart (results of last quarter)
        if _gap(span, (undated.when, undated.when)) <= WINDOW[None]:
            return True, f"reported within the period {dated.event_date.value}"
        theirs = dated.reported or dated.when
        gap = abs(undated.when - theirs)
        if gap > WINDOW[None]:
            return False, (f"one side dates the period {dated.event_date.value}, the other "
                           f"is reported outside it; reported {gap.days} days apart")
        return True, (f"one side dates the period {dated.event_date.value}; reported "
                      f"{gap.total_seconds() / 3600:.0f} h apart")
    gap = abs(a.when - b.when)
    if gap > WINDOW[None]:
        return False, f"no event dates; reported {gap.days} days apart"
    return True, f"no event dates; reported {gap.total_seconds() / 3600:.0f} h apart"


def _phase(status: str) -> str | None:
    if status in _PROSPECTIVE:
        return "planned or rumoured"
    if status in _ACTUAL:
        return "happened"
    return None  # denied: attaches to the event it denies


def _status(a: Mention, b: Mention) -> tuple[bool, str]:
    pa, pb = _phase(a.status), _phase(b.status)
    if pa is None or pb is None:
        return True, "a denial attaches to the event it denies"
    if pa != pb:
        return False, f"status {a.status} vs {b.status}: {pb} and {pa} are two events"
    return True, f"status compatible ({a.status}, {b.status})"


def same_event(a: Mention, b: Mention, *, same_item: bool = False,
               near_duplicate: bool = False) -> Verdict:
    """Whether ``a`` and ``b`` report one real-world event (see the module docstring).

    A joined verdict says whether both sides named a company or product they share
    (``named``), which outranks sentence similarity when several candidates pass."""
    if a.type != b.type:
        return Verdict(False, (f"type {a.type} ≠ {b.type}",))
    reasons = [f"same type {a.type}"]
    ok, why, anonymous = _entities(a, b)
    reasons.append(why)
    if not ok:
        return Verdict(False, tuple(reasons))
    if same_item:
        if a.recap != b.recap:
            reasons.append("news and a recap in one item are two events")
            return Verdict(False, tuple(reasons))
        reasons.append("one item")
    else:
        ok, why = _time(a, b)
        reasons.append(why)
        if not ok:
            return Verdict(False, tuple(reasons))
    ok, why = _status(a, b)
    reasons.append(why)
    if not ok:
        return Verdict(False, tuple(reasons))
    clash = conflicting(a.figures, b.figures)
    if clash is not None:
        reasons.append(f"figures differ: {clash[0]} vs {clash[1]}")
        return Verdict(False, tuple(reasons))
    if a.figures and b.figures:
        reasons.append("figures agree")
    sim = similarity(a, b)
    reasons.append(f"sentences {sim:.2f} alike")
    if anonymous and not same_item:
        if near_duplicate:
            reasons.append("the items are near-duplicates")
        elif sim < SIMILAR:
            reasons.append(f"not alike enough to vouch for the unnamed side (< {SIMILAR})")
            return Verdict(False, tuple(reasons), sim)
    return Verdict(True, tuple(reasons), sim, named=bool(a.named and b.named))


def follow_up(new: Mention, old: Mention) -> str | None:
    """Why ``new`` (which did not join ``old``) is a new development of ``old``, or None."""
    if new.type != old.type and old.type not in FOLLOWS.get(new.type, ()):
        return None
    if not (new.named & old.named) and not (not new.named and not old.named
                                             and new.others & old.others):
        return None
    if new.products and old.products and not _family_overlap(new.products, old.products):
        return None
    if new.status == "denied" or new.recap:
        return None
    if new.type != old.type:
        return f"{old.type} → {new.type}"
    if _phase(old.status) == "planned or rumoured" and _phase(new.status) == "happened":
        return f"{old.status} → {new.status}"
    if (clash := conflicting(new.figures, old.figures)) is not None:
        return f"new figures: {clash[1]} → {clash[0]}"
    return "a later development"
