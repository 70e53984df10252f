"""Status, recap and third-party decisions for one event, from the cue hits around its trigger.

Order of decisions (the first that applies wins):

1. third party — an analyst/expert/lawmaker cue before the trigger in the sentence, or a
   question: the event is dropped (calls and speculation are not events);
2. denied — a denial verb (نفت) before the trigger in its clause, or a negation particle
   (لم، لن، لا تعتزم، ليس) at most three tokens before it;
3. rumoured — a source hedge anywhere in the sentence (مصادر مطلعة، تقارير تفيد، شائعات), or a
   modal (قد + present tense، من المحتمل، ربما) at most three tokens before the trigger;
4. planned — the trigger verb carries the future prefix (ستفرض), or an intention cue (تعتزم،
   تخطط، تدرس، من المقرر) before the trigger in its clause;
5. confirmed — a confirmation cue (أكدت، رسميا) in the clause;
6. reported.

Recap cues (في وقت سابق، سبق أن، كانت … قد) are looked for in the whole sentence; dates are
compared with publication by the engine. A background cue (بعد أشهر من، على خلفية) at most
five tokens before the trigger in its clause marks the event as context recalled inside
another story (:func:`background_cue`): it may attach to a known event, never make one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracker.model import Status

_PRESENT = ("ي", "ت", "ن")


@dataclass(frozen=True)
class Cues:
    """Token indices of every cue group hit in one sentence, plus the sentence's tokens."""

    tokens: Sequence[str]
    at: Mapping[str, Sequence[int]]  # cue group -> token indices
    question: bool

    def before(self, group: str, token: int, lo: int, span: int | None = None) -> bool:
        """A hit of ``group`` in [lo, token), and within ``span`` tokens of it if given."""
        first = lo if span is None else max(lo, token - span)
        for t in self.at.get(group, ()):  # noqa: SIM110 - a loop is cheaper than any(...)
            if first <= t < token:
                return True
        return False


def third_party(cues: Cues, trigger: int) -> bool:
    """Whether the event is someone else's call, demand or speculation."""
    return cues.question or cues.before("cue_third_party", trigger, 0)


def _modal(cues: Cues, trigger: int) -> bool:
    for t in cues.at.get("cue_modal", ()):
        if not trigger - 3 <= t < trigger:
            continue
        if cues.tokens[t] in {"قد", "وقد", "فقد"}:
            following = cues.tokens[t + 1] if t + 1 < len(cues.tokens) else ""
            if not following.startswith(_PRESENT) or following.startswith("تم"):
                continue  # قد + past tense is emphasis, not doubt
        return True
    return False


_NOT_NEGATION = ("تزال", "يزال", "زالت", "زال", "سيما", "شك", "بد")  # لا تزال، لا سيما، لا شك


def _negated(cues: Cues, trigger: int, clause_start: int) -> bool:
    for t in cues.at.get("cue_negation", ()):
        if max(clause_start, trigger - 3) <= t < trigger:
            following = cues.tokens[t + 1] if t + 1 < len(cues.tokens) else ""
            if not following.startswith(_NOT_NEGATION):
                return True
    return False


def decide(cues: Cues, trigger: int, clause_start: int, future: bool) -> Status:
    """The status of an event whose first trigger token is ``trigger`` (see module doc)."""
    if cues.before("cue_denial", trigger, clause_start) or _negated(cues, trigger, clause_start):
        return "denied"
    if cues.at.get("cue_hedge") or _modal(cues, trigger):
        return "rumoured"
    if future or cues.before("cue_planned", trigger, clause_start):
        return "planned"
    for t in cues.at.get("cue_confirmed", ()):
        if t >= clause_start:
            return "confirmed"
    return "reported"


def recap_cue(cues: Cues, trigger: int) -> bool:
    """Whether the sentence says the event is an earlier one (في وقت سابق، كان … قد)."""
    if cues.at.get("cue_recap"):
        return True
    for t in cues.at.get("cue_recap_kana", ()):
        if t < trigger and any(cues.tokens[i] in {"قد", "وقد"} for i in range(t + 1, trigger)):
            return True
    return False


def background_cue(cues: Cues, trigger: int, clause_start: int) -> bool:
    """Whether the event is context recalled inside another story («بعد أشهر من توقف …»)."""
    return cues.before("cue_background", trigger, clause_start, span=5)
