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
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from tracker.classify.rules import CUE_GROUPS, Rule, Taxonomy
from tracker.classify.sentences import (
    clause_bounds,
    joined_for_key,
    key_sentence_spans,
    split_sentences,
)
from tracker.classify.status import Cues, background_cue, decide, recap_cue, third_party
from tracker.classify.temporal import FoundDate, find_dates
from tracker.model import Article, DetectedEvent, EntityRef, EventDate
from tracker.text.normalize import match_key

if TYPE_CHECKING:
    from tracker.classify.learned import TypeModel

_STATE_KINDS = frozenset({"us_gov", "china_gov", "regulator", "country"})
_STATE_LABELS = frozenset({"us_state", "china_state", "china_country", "ally_state"})
_PREPOSITIONS = frozenset({"الي", "في", "من", "علي", "عن", "مع", "داخل", "نحو", "ضد", "تجاه",
                           "والي", "وفي", "ومن", "وعلي", "بين", "لدي"})
_STRIP = " ،,.;:؛!?؟\"'«»()[]"
_CUE_GROUPS = frozenset(CUE_GROUPS)
# Lexicon groups that put an item on the race's topic even when it names no known entity
# ("the company's revenue rose …" in an excerpt): the gate of ``analyse`` lets them through.
_TOPIC_GROUPS = frozenset({"chip", "fab", "equipment", "entity_list", "mass_production",
                           "fin_noun", "shortage", "scarcity", "supply_obj", "products"})
_ROLES = ("actor", "product", "target", "mention")


class _Plan:
    """What the engine needs of one rule in a clause, worked out once when it is built."""

    __slots__ = ("actor", "exclude", "exclude_labels", "require", "rule", "state_actor")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.exclude = rule.exclude
        self.exclude_labels = frozenset(rule.exclude_labels)
        # per requirement: its groups, the labels it accepts, whether it is a trigger
        self.require = tuple((req.groups, frozenset(req.labels), not req.labels)
                             for req in rule.require)
        self.actor = frozenset(rule.actor)
        self.state_actor = bool(_STATE_LABELS.intersection(rule.actor))


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


class Engine:
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

    def _sentence(
        self, sent: _Sentence, hits: list[Hit], candidates: list[_Plan], earlier: list[Hit],
        article: Article,
    ) -> list[DetectedEvent]:
        key = sent.key
        cue_at: dict[str, list[int]] = {}
        for h in hits:
            if h.kind == LEXICON and h.name in _CUE_GROUPS:
                cue_at.setdefault(h.name, []).append(h.token)
        text = key[sent.start:sent.end]
        cues = Cues(sent.tokens, cue_at, text.rstrip(" .\"'").endswith("?"))
        bounds = [sent.start + b for b in clause_bounds(text)]
        by_clause: dict[int, list[Hit]] = {}
        if len(bounds) == 1:
            if hits:
                by_clause[0] = list(hits)
        else:
            for h in hits:
                by_clause.setdefault(bisect.bisect_right(bounds, h.start) - 1, []).append(h)
        sentence_entities = [h for h in hits if h.kind == ENTITY]
        sent.entities = sentence_entities
        best: dict[str, DetectedEvent] = {}
        for clause, clause_hits in sorted(by_clause.items()):
            groups: dict[str, list[Hit]] = {}
            clause_labels: set[str] = set()
            clause_entities: list[Hit] = []
            for h in clause_hits:
                if h.kind == LEXICON:
                    groups.setdefault(h.name, []).append(h)
                else:
                    clause_entities.append(h)
                    clause_labels |= self._labels[h.name]
            for plan in candidates:
                found = self._apply(plan, groups, clause_labels, clause_entities,
                                    sentence_entities, earlier, sent.tokens)
                if found is None:
                    continue
                rule = plan.rule
                triggers, context, entity_hits, fallback = found
                event = self._event(plan, triggers, context, entity_hits, fallback, cues, sent,
                                    clause, bounds, clause_hits, article)
                if event is None:
                    continue
                old = best.get(rule.type)
                best[rule.type] = event if old is None else _merge(old, event)
        return list(best.values())

    def _apply(
        self, plan: _Plan, groups: dict[str, list[Hit]], clause_labels: set[str],
        clause_entities: list[Hit], sentence_entities: list[Hit], earlier: list[Hit],
        tokens: list[str],
    ) -> tuple[list[Hit], list[Hit], list[Hit], float] | None:
        """Trigger, context and entity hits that satisfy the rule in a clause, or None.

        The last item is the confidence penalty for entities borrowed from outside the
        clause (0.1 from the sentence, 0.2 from an earlier sentence).
        """
        for g in plan.exclude:
            if g in groups:
                return None
        if plan.exclude_labels and not plan.exclude_labels.isdisjoint(clause_labels):
            return None
        labels = self._labels
        lexical: list[list[Hit]] = []
        context: list[Hit] = []
        entity_hits: list[Hit] = []
        fallback = 0.0
        for req_groups, wanted, trigger in plan.require:
            if len(req_groups) == 1:
                options: list[Hit] = groups.get(req_groups[0], [])  # read only
            else:
                options = [h for g in req_groups for h in groups.get(g, ())]
            if options and trigger:
                lexical.append(options)  # a trigger: must be near the other triggers
                continue
            if options:
                context.append(options[0])  # an object or context word: anywhere in the clause
                continue
            here = [h for h in clause_entities if not wanted.isdisjoint(labels[h.name])]
            if here:
                entity_hits.extend(here)
                continue
            there = next((h for h in sentence_entities
                          if not wanted.isdisjoint(labels[h.name])), None)
            if there is not None:
                entity_hits.append(there)
                fallback = max(fallback, 0.1)
                continue
            before = next((h for h in reversed(earlier) if not wanted.isdisjoint(labels[h.name])
                           and h.name in self._companies), None)  # only the company spoken of
            if before is None:
                return None
            entity_hits.append(before)
            fallback = 0.2
        chosen = _nearest(lexical, plan.rule.near)
        if chosen is None or (plan.state_actor
                              and not self._actor_fits(plan, chosen, clause_entities, tokens)):
            return None
        return chosen, context, entity_hits, fallback

    def _may_be_subject(self, hit: Hit, tokens: list[str]) -> bool:
        """False for a name after a preposition: إلى الصين، في واشنطن، للصين."""
        if tokens[hit.token] in self._matcher.prepositional:
            return False
        return hit.token == 0 or tokens[hit.token - 1] not in _PREPOSITIONS

    def _actor_fits(
        self, plan: _Plan, triggers: list[Hit], clause_entities: list[Hit], tokens: list[str]
    ) -> bool:
        """For a state-actor rule: a state entity next to the trigger is one of the actors.

        Only states within three tokens of the first trigger count (the subject of an Arabic
        verb sits right before or after it); when there is none, the rule is not blocked.

        "الصين تحظر منتجات … في الولايات المتحدة" is China acting, not the United States.
        """
        if not plan.state_actor:
            return True
        trigger = triggers[0].token  # the hit of the rule's first requirement: its verb
        states = self._states
        nearest: Hit | None = None
        best: tuple[int, bool] = (0, False)
        for h in clause_entities:  # the first nearest (by distance, then after the trigger)
            if h.name not in states:
                continue
            before, after = abs(h.token - trigger), abs(h.last_token - trigger)
            if (before > 3 and after > 3) or not self._may_be_subject(h, tokens):
                continue
            rank = (min(before, after), h.token < trigger)
            if nearest is None or rank < best:
                nearest, best = h, rank
        if nearest is None:
            return True
        return not plan.actor.isdisjoint(self._labels[nearest.name])

    def _event(
        self, plan: _Plan, triggers: list[Hit], context: list[Hit], entity_hits: list[Hit],
        fallback: float, cues: Cues, sent: _Sentence, clause: int, bounds: list[int],
        clause_hits: list[Hit], article: Article,
    ) -> DetectedEvent | None:
        rule = plan.rule
        trigger = min(h.token for h in triggers)
        evidence = triggers + context
        if third_party(cues, trigger):
            return None
        clause_start_tok = bisect.bisect_left(sent.starts, bounds[clause])
        if rule.ignore_denial_by and cues.at.get("cue_denial"):
            cues = self._without_target_denials(rule, cues, sent)
        status = decide(cues, trigger, clause_start_tok, any(h.future for h in triggers))
        clause_end = bounds[clause + 1] if clause + 1 < len(bounds) else sent.end
        dates = sent.dates(bounds[clause], clause_end, article.published, status == "planned")
        event_date: EventDate | None = None
        recap = recap_cue(cues, trigger)
        if dates:
            anchor = min(h.start for h in triggers) - bounds[clause]
            nearest = min(dates, key=lambda d: abs(d.start - anchor))
            event_date = nearest.date
            if (article.published is not None and status != "planned"
                    and nearest.date.precision in ("day", "week", "month")):
                recap = recap or nearest.last_day < article.published.date() - timedelta(days=7)
        entities = self._entities(plan, clause_hits, entity_hits)
        confidence = rule.confidence - fallback
        if status == "rumoured":
            confidence *= 0.75
        elif status == "planned":
            confidence *= 0.9
        phrases = sent.evidence(sorted({*evidence, *entity_hits}))
        return DetectedEvent(
            type=rule.type,
            confidence=round(max(0.05, min(1.0, confidence)), 2),
            entities=entities,
            event_date=event_date,
            status=status,
            recap=recap,
            evidence=phrases,
            sentence=sent.text(),
            background=background_cue(cues, trigger, clause_start_tok),
        )

    def _without_target_denials(self, rule: Rule, cues: Cues, sent: _Sentence) -> Cues:
        """Drop denials whose subject (the nearest entity) is a target, e.g. the company."""
        near = sent.entities
        kept = []
        for t in cues.at["cue_denial"]:
            close = [h for h in near if -2 <= h.token - t <= 3]
            subject = min(close, key=lambda h: abs(h.token - t)) if close else None
            if subject is None or not self._labels[subject.name].intersection(
                rule.ignore_denial_by
            ):
                kept.append(t)
        return Cues(cues.tokens, {**cues.at, "cue_denial": kept}, cues.question)

    def _entities(
        self, plan: _Plan, clause_hits: list[Hit], entity_hits: list[Hit]
    ) -> tuple[EntityRef, ...]:
        """Entities of the clause plus those borrowed from the sentence, with roles."""
        ids = dict.fromkeys([h.name for h in clause_hits if h.kind == ENTITY]
                            + [h.name for h in entity_hits if h.kind == ENTITY])
        actor_labels = plan.actor
        info = self._entity_info
        refs = self._refs
        unique: dict[str, EntityRef] = {}
        has_actor = False
        for eid in ids:
            kind, labels, parent = info[eid]
            if not actor_labels.isdisjoint(labels):
                role = "actor"
            elif kind == "product":
                role = "product"
            elif kind == "company" and not actor_labels and not has_actor:
                role = "actor"
            elif kind == "company":
                role = "target"
            else:
                role = "mention"
            has_actor = has_actor or role == "actor"
            if eid not in unique:
                unique[eid] = refs[eid, role]
            if parent is not None and parent[0] not in unique:
                unique[parent[0]] = refs.get((parent[0], role)) or EntityRef(*parent, role)
        return tuple(unique.values())


def _nearest(lexical: list[list[Hit]], near: int) -> list[Hit] | None:
    """One hit per requirement within ``near`` tokens of the first's hit, or None.

    The earliest hit of the first requirement that has all the others near it wins: the first
    mention of an event is the one its status and third-party cues are read against.
    """
    if not lexical:
        return []
    if len(lexical) == 1:  # one trigger: its first hit spans nothing beyond itself
        return [lexical[0][0]] if lexical[0] and near >= 0 else None
    others = lexical[1:]
    for anchor in lexical[0]:
        at = anchor.token
        picked = [anchor]
        for options in others:
            nearest = options[0]  # the first of the closest (as min() picks)
            if len(options) > 1:
                distance = abs(nearest.token - at)
                for h in options:
                    d = abs(h.token - at)
                    if d < distance:
                        nearest, distance = h, d
            picked.append(nearest)
        lo, hi, width = anchor.token, anchor.last_token, 0
        for h in picked:
            lo = min(lo, h.token)
            hi = max(hi, h.last_token)
            width += h.last_token - h.token
        if max(0, hi - lo - width) <= near:
            return picked
    return None


def _merge(a: DetectedEvent, b: DetectedEvent) -> DetectedEvent:
    """Two events of one type in one sentence: keep the stronger, pool entities and evidence."""
    first, second = (a, b) if a.confidence >= b.confidence else (b, a)
    seen = {e.id for e in first.entities}
    entities = first.entities + tuple(e for e in second.entities if e.id not in seen)
    evidence = first.evidence + tuple(p for p in second.evidence if p not in first.evidence)
    return DetectedEvent(first.type, first.confidence, entities, first.event_date or
                         second.event_date, first.status, first.recap, evidence, first.sentence,
                         background=first.background and second.background)


class _Display:
    """The display sentences of an item, split only when a first event needs them."""

    def __init__(self, article: Article, count: int) -> None:
        self._article, self._count = article, count
        self._sentences: list[str] | None = None

    def sentence(self, n: int) -> str | None:
        """Display sentence ``n``, or None if the display and key splits disagree."""
        if self._sentences is None:
            self._sentences = split_sentences(self._article.title, self._article.text)
        return self._sentences[n] if len(self._sentences) == self._count else None


class _Sentence:
    """One sentence of an item: its span in the item's key and, if aligned, its display text."""

    def __init__(self, key: str, start: int, end: int, first_token: int, tokens: list[str],
                 starts: list[int], display: _Display, index: int) -> None:
        self.key, self.start, self.end = key, start, end
        self.first_token, self.tokens, self.starts = first_token, tokens, starts
        self._display, self._index = display, index
        self._owner: list[int] | None = None
        self._words: list[str] = []
        self._phrases: dict[tuple[int, int], str] = {}  # (first, last) sentence token -> phrase
        self.entities: list[Hit] = []
        self._dates: dict[tuple[int, int, bool], list[FoundDate]] = {}

    def dates(
        self, start: int, end: int, published: datetime | None, forward: bool
    ) -> list[FoundDate]:
        """The date expressions of one clause (computed once per clause and direction)."""
        cache_key = (start, end, forward)
        if cache_key not in self._dates:
            text = self.key[start:end]
            # find_dates tries each pattern only where the word it needs occurs: a text
            # without any time hint (temporal.TIME_HINT) costs a few quick searches
            self._dates[cache_key] = find_dates(text, published, forward)
        return self._dates[cache_key]

    @property
    def display(self) -> str | None:
        """The display text of this sentence (None if it cannot be lined up)."""
        return self._display.sentence(self._index)

    def text(self) -> str:
        """The display text, or the match key when the two splits disagree."""
        shown = self.display
        return shown if shown is not None else self.key[self.start:self.end]

    def evidence(self, hits: Sequence[Hit]) -> tuple[str, ...]:
        """The display-text phrases of ``hits``: the words of the sentence they cover."""
        if self._owner is None:
            shown = self.display
            words = self._words = shown.split() if shown is not None else []
            count = bisect.bisect_left(self.starts, self.end) - self.first_token
            if len(words) == count:  # the usual case: one token per word
                self._owner = list(range(count))
            else:
                owner: list[int] = []  # sentence token index -> display word index
                for i, word in enumerate(words):
                    owner.extend([i] * len(scan_text(match_key(word)).split()))
                self._owner = owner
        words = self._words
        out: list[str] = []
        for h in hits:
            first, last = h.token - self.first_token, h.last_token - self.first_token
            if first >= 0 and last < len(self._owner):
                cached = self._phrases.get((first, last))
                if cached is None:
                    cached = self._phrases[first, last] = " ".join(
                        words[self._owner[first]: self._owner[last] + 1]).strip(_STRIP)
                phrase = cached
            else:
                phrase = self.key[h.start:h.end]
            if phrase and phrase not in out:
                out.append(phrase)
        return tuple(out)
