"""The event engine: an article in, the events of the US–China AI-chip race out.

Order of work for one article:

1. match key of title + text (line breaks kept as ¶), one automaton pass; if no rule can have
   all its trigger groups (regex groups are tried only then), stop: most feed items end here;
2. regex hits (product codes, figures) near digits; entities de-overlapped (longest wins);
   the key is split into sentences that line up with the display sentences;
3. per sentence that can fire a rule, per clause and rule: every requirement met (lexicon
   groups in the clause; entities in the clause, else the sentence, else a company from an
   earlier sentence, at a confidence cost), no excluded group or entity label in the
   clause, trigger hits within ``near`` tokens (the earliest such mention), and for a
   state-actor rule the state named next to the verb is one of its actors (not after a
   preposition: إلى الصين); a third-party, anticipation or question sentence yields nothing;
4. per event: status (``status``; a denial by the rule's target, e.g. the company, can be
   ignored), date from the clause nearest the trigger (``temporal``), recap when a day, week or
   month date ends more than a week before publication or a recap cue says so, entities with
   roles (parents added: cac → china_gov), evidence in display text, confidence;
5. one event per type and sentence (the most confident, entities merged).

The engine is pure: time comes only from ``Article.published``; no I/O after construction.
Steps 3 and 4 (a rule against a sentence) are in :mod:`.rule_match`; how a sentence is seen
(span, tokens, dates, display text) in :mod:`.sentence_view`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tracker.classify.gazetteer import Gazetteer
from tracker.classify.matcher import (
    ENTITY,
    LEXICON,
    Hit,
    Matcher,
    Raw,
    scan_text,
    token_starts,
)
from tracker.classify.rules import Rule, Taxonomy
from tracker.classify.sentences import (
    joined_for_key,
    key_sentence_spans,
    split_sentences,
)
from tracker.classify.status import Cues, background_cue, decide, recap_cue, third_party
from tracker.model import Article, DetectedEvent, EntityRef, EventDate
from tracker.text.normalize import match_key

if TYPE_CHECKING:
    from tracker.classify.learned import TypeModel

from tracker.classify.rule_match import _CUE_GROUPS, RuleMatching, _Plan
from tracker.classify.sentence_view import _Display, _Sentence

_STATE_KINDS = frozenset({"us_gov", "china_gov", "regulator", "country"})
# Lexicon groups that put an item on the race's topic even when it names no known entity
# ("the company's revenue rose …" in an excerpt): the gate of ``analyse`` lets them through.
_TOPIC_GROUPS = frozenset({"chip", "fab", "equipment", "entity_list", "mass_production",
                           "fin_noun", "shortage", "scarcity", "supply_obj", "products"})
_ROLES = ("actor", "product", "target", "mention")
_EARLIER = frozenset({"k:earlier"})  # a sentence naming nothing after one that did


@dataclass(frozen=True)
class SentenceSignals:
    """One sentence as the engine sees it: its match key, the signal names
    the learned model reads (``g:`` lexicon groups, ``k:`` entity kinds, ``r:`` rule events
    with status), the entities named in it, and the events the rules found there."""

    index: int
    key: str
    signals: frozenset[str]
    events: tuple[DetectedEvent, ...]
    entities: tuple[str, ...]
    title: bool
    words: tuple[str, ...] = ()  # the sentence's scan tokens (match key, no punctuation)
    build: Callable[[str, tuple[str, ...]], DetectedEvent | None] | None = field(
        default=None, compare=False, repr=False)  # an event of a type the rules did not find


class Engine(RuleMatching):
    """Recognises events in articles; build with ``load_engine``; safe to share."""

    def __init__(self, gazetteer: Gazetteer, taxonomy: Taxonomy,
                 model: TypeModel | None = None) -> None:
        self._gaz = gazetteer
        self._tax = taxonomy
        self._model = model
        self._topic = _TOPIC_GROUPS & set(taxonomy.groups)
        self._matcher = Matcher(gazetteer, taxonomy)
        self._rules: tuple[Rule, ...] = tuple(
            r for t in taxonomy.types.values() for r in t.rules
        )
        # per rule, the any-of group sets of its lexicon-only requirements (its triggers)
        self._trigger_sets = tuple(
            tuple(frozenset(req.groups) for req in r.require if not req.labels)
            for r in self._rules
        )
        self._trigger_masks = tuple(
            tuple(self._matcher.mask(group_set) for group_set in sets)
            for sets in self._trigger_sets
        )
        self._pattern_mask = self._matcher.mask(self._matcher.pattern_groups)
        self._pattern_capable = tuple(any(m & self._pattern_mask for m in masks)
                                      for masks in self._trigger_masks)
        self._bit = self._matcher.bit
        self._labels = {e.id: e.labels for e in gazetteer.entities.values()}
        self._states = frozenset(e.id for e in gazetteer.entities.values()
                                 if e.kind in _STATE_KINDS)
        self._companies = frozenset(e.id for e in gazetteer.entities.values()
                                    if e.kind == "company")
        self._plans = tuple(_Plan(r) for r in self._rules)
        self._all_triggered = all(self._trigger_masks)  # every rule has a trigger group
        # the rule checks of ``classify``: the rules that regex groups may complete, and every
        # rule by its number of trigger masks (1, 2, 3, other), for quick comprehensions
        self._capable_checks = tuple((index, masks)
                                     for index, masks in enumerate(self._trigger_masks)
                                     if self._pattern_capable[index])
        self._by_count: tuple[list[Any], ...] = ([], [], [], [])
        for index, masks in enumerate(self._trigger_masks):
            slot = len(masks) - 1 if 1 <= len(masks) <= 3 else 3
            self._by_count[slot].append((index, *masks) if slot < 3 else (index, masks))
        # entity id -> (kind, labels, the parent's (id, kind) or None) and the refs by role
        self._entity_info: dict[str, tuple[str, frozenset[str], tuple[str, str] | None]] = {}
        self._refs: dict[tuple[str, str], EntityRef] = {}
        for e in gazetteer.entities.values():
            parent = gazetteer.entities.get(e.parent) if e.parent else None
            self._entity_info[e.id] = (e.kind, self._labels[e.id],
                                       (parent.id, parent.kind) if parent is not None else None)
            for role in _ROLES:
                self._refs[e.id, role] = EntityRef(e.id, e.kind, role)

    def with_model(self, model: TypeModel | None) -> Engine:
        """The same engine deciding types with ``model`` (None: the rules alone)."""
        twin = object.__new__(Engine)
        twin.__dict__.update(self.__dict__)
        twin._model = model
        return twin

    @property
    def model(self) -> TypeModel | None:
        """The learned type model, or None when the rules decide alone."""
        return self._model

    # --- descriptive API -----------------------------------------------------------------

    def entity_kinds(self) -> Mapping[str, str]:
        """Canonical entity id -> kind."""
        return MappingProxyType({e.id: e.kind for e in self._gaz.entities.values()})

    def gazetteer(self) -> Gazetteer:
        """The entities this engine recognises (for name lookups outside classification)."""
        return self._gaz

    def event_types(self) -> tuple[str, ...]:
        """The event type ids of the taxonomy, in file order."""
        return tuple(self._tax.types)

    def labels(self, type_id: str, lang: str) -> str:
        """The Arabic (``ar``) or English label of an event type; KeyError if unknown."""
        t = self._tax.types[type_id]
        return t.label_ar if lang == "ar" else t.label_en

    def entity_labels(self, entity_id: str) -> frozenset[str]:
        """The labels of an entity (its kind, its side: us_state, chip_maker …)."""
        return self._labels.get(entity_id, frozenset())

    def decision_conditions(self, type_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """The operator's conditions on a type: entity labels one of which must be named,
        and lexicon groups that veto it (see :mod:`tracker.classify.decide`)."""
        t = self._tax.types[type_id]
        return frozenset(t.require_any), frozenset(t.veto)

    def rules_only_types(self) -> frozenset[str]:
        """Types the operator wants decided by the rules alone (``model = false``)."""
        return frozenset(t.id for t in self._tax.types.values() if not t.model)

    def entity_label(self, entity_id: str, lang: str) -> str:
        """The display name of an entity; the id itself if unknown."""
        ent = self._gaz.entities.get(entity_id)
        if ent is None:
            return entity_id
        return ent.label_ar if lang == "ar" else ent.label_en

    # --- classification ------------------------------------------------------------------

    def classify(self, article: Article) -> tuple[DetectedEvent, ...]:
        """All events of one article, in sentence order (see the module docstring).

        With a learned model the model decides the types and the rules lend the rest
        (:mod:`tracker.classify.decide`); without one, the rules decide alone.
        """
        if self._model is not None:
            from tracker.classify.decide import decide

            return decide(self, self._model, article)
        return self.rule_events(article)

    def rule_events(self, article: Article) -> tuple[DetectedEvent, ...]:
        """The events the rules alone find in one article."""
        key = match_key(joined_for_key(article.title, article.text))
        scan = scan_text(key)
        raw, groups = self._matcher.scan(scan)
        pattern_raw: list[Raw] | None = None
        # A rule is selected when each of its trigger masks meets the groups that occur. The
        # regex groups are looked for only if a rule that they may complete lacks nothing else
        # (the regex hits are needed later anyway); then the rules are checked against both.
        for _index, masks in self._capable_checks:
            missing = [m for m in masks if not m & groups]
            if missing and all(m & self._pattern_mask for m in missing):
                pattern_raw = self._matcher.patterns(key)
                groups |= self._matcher.mask(
                    name for _s, _e, kind, name, _f in pattern_raw if kind == LEXICON)
                break
        rules = self._selected(groups)
        if not rules:
            return ()
        starts, tokens = token_starts(scan, plain=True)  # a match key: only " " separates
        hits = self._matcher.resolve_at(key, raw, pattern_raw, starts)
        spans = key_sentence_spans(key)
        display = _Display(article, len(spans))
        events: list[DetectedEvent] = []
        earlier: list[Hit] = []  # entity hits of the sentences before (the title first)
        hit_starts = [h[0] for h in hits]
        bit = self._bit
        masks_of = self._trigger_masks
        plans = self._plans
        selected = [(plans[r], masks_of[r]) for r in rules]
        any_first = 0  # a sentence without any first trigger group has no candidate rule
        for r in rules:
            any_first |= masks_of[r][0] if masks_of[r] else 0
        always = not self._all_triggered  # a rule without triggers is a candidate anywhere
        i = 0
        for n, (s_start, s_end) in enumerate(spans):
            j = bisect.bisect_left(hit_starts, s_end, i)
            sentence_hits = [h for h in hits[i:j] if h.start >= s_start]
            i = j
            found = 0
            for h in sentence_hits:
                if h.kind == LEXICON:
                    found |= bit[h.name]
            candidates: list[_Plan] = []
            if found & any_first or always:
                for plan, masks in selected:
                    for m in masks:
                        if not m & found:
                            break
                    else:
                        candidates.append(plan)
            if candidates:
                sentence = _Sentence(key, s_start, s_end, bisect.bisect_left(starts, s_start),
                                     tokens, starts, display, n)
                events.extend(self._sentence(sentence, sentence_hits, candidates, earlier,
                                             article))
            earlier += [h for h in sentence_hits if h.kind == ENTITY]
        return tuple(events)

    def _selected(self, groups: int) -> list[int]:
        """The rules (by index, in rule order) whose trigger masks all meet ``groups``."""
        ones, twos, threes, more = self._by_count
        rules = [i for i, a in ones if a & groups]
        rules += [i for i, a, b in twos if a & groups and b & groups]
        rules += [i for i, a, b, c in threes if a & groups and b & groups and c & groups]
        rules += [i for i, masks in more if all(m & groups for m in masks)]
        rules.sort()  # rule order
        return rules

    def analyse(self, article: Article, gate: bool = False) -> tuple[SentenceSignals, ...]:
        """Every sentence of an article with the engine's signals and its rule events.

        The learned type model reads the signals as features and decides on the types; the
        rule events lend it entities, roles, dates, status, recap and evidence. Unlike
        :meth:`classify` this looks at every sentence, not only those a rule can fire in.
        With ``gate``, an article that names no entity of the gazetteer and no word of the
        race's own vocabulary (chips, fabs, tools, earnings, shortages: ``_TOPIC_GROUPS``)
        gives nothing: most feed items stop here, after one automaton pass.
        """
        key = match_key(joined_for_key(article.title, article.text))
        scan = scan_text(key)
        raw, _groups = self._matcher.scan(scan)
        if gate and not any(r[2] == ENTITY or (r[2] == LEXICON and r[3] in self._topic)
                            for r in raw):
            return ()
        starts, tokens = token_starts(scan, plain=True)
        pattern_raw = self._matcher.patterns(key)
        hits = self._matcher.resolve_at(key, raw, pattern_raw, starts)
        groups = _groups | self._matcher.mask(
            name for _s, _e, kind, name, _f in pattern_raw if kind == LEXICON)
        # the rules whose triggers all occur somewhere in the item: the only candidates
        selected = [(self._plans[i], self._trigger_masks[i]) for i in self._selected(groups)]
        spans = key_sentence_spans(key)
        display = _Display(article, len(spans))
        in_title = len(split_sentences(article.title, ""))
        out: list[SentenceSignals] = []
        earlier: list[Hit] = []
        hit_starts = [h[0] for h in hits]
        bit = self._bit
        kinds = self._entity_info
        untriggered = any(not masks for _plan, masks in selected)  # may fire on no hit
        i = 0
        for n, (s_start, s_end) in enumerate(spans):
            j = bisect.bisect_left(hit_starts, s_end, i)
            sentence_hits = [h for h in hits[i:j] if h.start >= s_start]
            i = j
            first = bisect.bisect_left(starts, s_start)
            words = tuple(tokens[first:bisect.bisect_left(starts, s_end)])
            sentence = _Sentence(key, s_start, s_end, first, tokens, starts, display, n)
            build = self._builder(sentence, sentence_hits, list(earlier), article)
            if not sentence_hits and not untriggered:  # background: nothing but its words
                out.append(SentenceSignals(
                    index=n, key=key[s_start:s_end],
                    signals=_EARLIER if earlier else frozenset(), events=(), entities=(),
                    title=n < in_title, words=words, build=build))
                continue
            found = {h.name for h in sentence_hits if h.kind == LEXICON}
            mask = 0
            for name in found:
                mask |= bit[name]
            candidates = [plan for plan, masks in selected if all(m & mask for m in masks)]
            events = (tuple(self._sentence(sentence, sentence_hits, candidates, earlier,
                                           article)) if candidates else ())
            entity_hits = [h for h in sentence_hits if h.kind == ENTITY]
            # the background cue came after the model was trained: not one of its features
            signals = {f"g:{name}" for name in found if name != "cue_background"}
            signals.update(f"k:{kinds[h.name][0]}" for h in entity_hits)
            for ev in events:
                signals.add(f"r:{ev.type}")
                signals.add(f"r:{ev.type}:{ev.status}")
                if ev.recap:
                    signals.add("r:recap")
            if not entity_hits and earlier:
                signals.add("k:earlier")
            out.append(SentenceSignals(
                index=n, key=key[s_start:s_end],
                signals=frozenset(signals), events=events,
                entities=tuple(dict.fromkeys(h.name for h in entity_hits)),
                title=n < in_title, words=words, build=build))
            earlier += entity_hits
        return tuple(out)

    def _builder(self, sent: _Sentence, hits: list[Hit], earlier: list[Hit], article: Article
                 ) -> Callable[[str, tuple[str, ...]], DetectedEvent | None]:
        def build(type_id: str, words: tuple[str, ...]) -> DetectedEvent | None:
            return self._model_event(sent, hits, earlier, type_id, words, article)
        return build

    def _model_event(self, sent: _Sentence, hits: list[Hit], earlier: list[Hit], type_id: str,
                     words: tuple[str, ...], article: Article) -> DetectedEvent | None:
        """An event of ``type_id`` that the model found and no rule did: the rules' status,
        date, recap and entity roles read around the type's trigger words, or around the
        model's weighted ``words`` when none occurs; None for a third party's call. An event
        naming no entity we know has no entities (as a rule event may)."""
        plans = [p for p in self._plans if p.rule.type == type_id]
        wanted = {g for p in plans for groups, _l, _t in p.require for g in groups}
        cue_at: dict[str, list[int]] = {}
        for h in hits:
            if h.kind == LEXICON and h.name in _CUE_GROUPS:
                cue_at.setdefault(h.name, []).append(h.token)
        tokens = sent.tokens
        word_hits = [Hit(sent.starts[t], sent.starts[t] + len(tokens[t]), t, t, LEXICON, "")
                     for t in range(sent.first_token, bisect.bisect_left(sent.starts, sent.end))
                     if tokens[t] in words]
        triggers = ([h for h in hits if h.kind == LEXICON and h.name in wanted]
                    or word_hits)
        trigger = min((h.token for h in triggers), default=sent.first_token)
        text = sent.key[sent.start:sent.end]
        cues = Cues(tokens, cue_at, text.rstrip(" .\"'").endswith("?"))
        if third_party(cues, trigger):
            return None
        future = any(h.future for h in triggers if h.token == trigger)
        status = decide(cues, trigger, sent.first_token, future)
        recap = recap_cue(cues, trigger)
        event_date: EventDate | None = None
        dates = sent.dates(sent.start, sent.end, article.published, status == "planned")
        if dates:
            anchor = sent.starts[trigger] - sent.start if trigger < len(sent.starts) else 0
            nearest = min(dates, key=lambda d: abs(d.start - anchor))
            event_date = nearest.date
            if (article.published is not None and status != "planned"
                    and nearest.date.precision in ("day", "week", "month")):
                recap = recap or nearest.last_day < article.published.date() - timedelta(days=7)
        entity_hits = [h for h in hits if h.kind == ENTITY]
        if not entity_hits:  # "the company": the company spoken of before
            before = next((h for h in reversed(earlier) if h.name in self._companies), None)
            entity_hits = [before] if before is not None else []
        plan = plans[0] if plans else None
        if not entity_hits:  # the type is reported about no entity we know, as rules do too
            entities: tuple[EntityRef, ...] = ()
        elif plan is not None:
            entities = self._entities(plan, entity_hits, [])
        else:
            entities = tuple(self._refs[name, "mention"]
                             for name in dict.fromkeys(h.name for h in entity_hits))
        evidence = sent.evidence(sorted({*triggers[:3], *word_hits}))
        return DetectedEvent(type=type_id, confidence=0.5, entities=entities,
                             event_date=event_date, status=status, recap=recap,
                             evidence=evidence, sentence=sent.text(),
                             background=background_cue(cues, trigger, sent.first_token))
