"""Steps 3 and 4 of :mod:`tracker.classify.engine`: a rule against one sentence.

Per clause and rule, in this order: every requirement met (lexicon groups in the clause;
entities in the clause, else the sentence, else a company from an earlier sentence, at a
confidence cost); no excluded group or entity label; trigger hits within ``near`` tokens (the
earliest such mention); for a state-actor rule the state named next to the verb is one of its
actors; then the event: status, date, recap, entities with roles, evidence, confidence.
"""

from __future__ import annotations

import bisect
from datetime import timedelta

from tracker.classify.matcher import (
    ENTITY,
    LEXICON,
    Hit,
    Matcher,
)
from tracker.classify.rules import CUE_GROUPS, Rule
from tracker.classify.sentence_view import _Sentence
from tracker.classify.sentences import (
    clause_bounds,
)
from tracker.classify.status import Cues, background_cue, decide, recap_cue, third_party
from tracker.model import Article, DetectedEvent, EntityRef, EventDate

_STATE_LABELS = frozenset({"us_state", "china_state", "china_country", "ally_state"})
_PREPOSITIONS = frozenset({"الي", "في", "من", "علي", "عن", "مع", "داخل", "نحو", "ضد", "تجاه",
                           "والي", "وفي", "ومن", "وعلي", "بين", "لدي"})
_CUE_GROUPS = frozenset(CUE_GROUPS)



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



class RuleMatching:
    """The rule-matching part of :class:`~tracker.classify.engine.Engine`."""

    _matcher: Matcher
    _labels: dict[str, frozenset[str]]
    _states: frozenset[str]
    _companies: frozenset[str]
    _entity_info: dict[str, tuple[str, frozenset[str], tuple[str, str] | None]]
    _refs: dict[tuple[str, str], EntityRef]

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
