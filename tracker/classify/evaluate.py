"""Scoring the engine against labelled items (the rule of data/README.md "Scoring").

For each item the predicted set is the types of its events whose status is not ``denied``; the
gold set is its ``labels`` (``["none"]`` means empty). Labels describe what the excerpt's own
sentences say ("not the rest of the article"), so a headline that differs from the text is
context: it still lends entities to the text, but events found only in it are not predictions
(``title_events=True`` counts them too). A headline repeated as the text, or an item that is
only a headline, is the text.

Per type we count true positives, false positives and false negatives over items and derive
precision, recall and F1 (0 when undefined); macro-F1 is the mean F1 over the scored types
(by default the eight shipped types). Every item whose sets differ is listed as an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker.classify.engine import Engine
from tracker.classify.report import parse_published
from tracker.classify.sentences import split_sentences
from tracker.model import Article

SCORED_TYPES: tuple[str, ...] = (
    "export_permit", "export_restriction", "purchase_guidance", "security_review",
    "mass_production", "chip_launch", "financial_results", "supply_constraint",
)


@dataclass(frozen=True)
class TypeScore:
    """Counts and scores of one event type."""

    type: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class EvalError:
    """One item the engine got wrong."""

    id: str
    text: str
    expected: frozenset[str]
    got: frozenset[str]


@dataclass(frozen=True)
class EvalResult:
    """Per-type scores, macro-F1, item count and every error."""

    scores: tuple[TypeScore, ...]
    macro_f1: float
    items: int
    errors: tuple[EvalError, ...]

    def score(self, type_id: str) -> TypeScore:
        """The score of one type (KeyError if it was not scored)."""
        for s in self.scores:
            if s.type == type_id:
                return s
        raise KeyError(type_id)


def predicted_types(
    engine: Engine, record: dict[str, object], title_events: bool = False
) -> frozenset[str]:
    """The scored prediction for one record: types of its events that are not denied."""
    text = str(record.get("text") or "")
    title = str(record.get("title") or "")
    if title.strip() == text.strip():
        title = ""
    published = parse_published(record.get("published"))
    events = engine.classify(Article(title=title, text=text, published=published))
    # the headline is context, unless it is all there is
    headline = set(split_sentences(title, "")) if text.strip() and not title_events else set()
    return frozenset(ev.type for ev in events
                     if ev.status != "denied" and ev.sentence not in headline)


def evaluate(
    engine: Engine,
    records: Iterable[dict[str, object]],
    types: tuple[str, ...] = SCORED_TYPES,
    title_events: bool = False,
) -> EvalResult:
    """Score ``engine`` on labelled records (see the module docstring)."""
    counts = {t: [0, 0, 0] for t in types}
    errors: list[EvalError] = []
    items = 0
    for record in records:
        items += 1
        raw = record.get("labels") or []
        labels = raw if isinstance(raw, list) else [raw]
        expected = frozenset(str(x) for x in labels) - {"none"}
        try:
            got = predicted_types(engine, record, title_events)
        except ValueError:
            got = frozenset()
        for t in types:
            c = counts[t]
            if t in got and t in expected:
                c[0] += 1
            elif t in got:
                c[1] += 1
            elif t in expected:
                c[2] += 1
        if got != expected:
            title = str(record.get("title") or "")
            text = f"{title} | {record.get('text') or ''}" if title else str(record.get("text"))
            errors.append(EvalError(str(record.get("id")), text, expected, got))
    scores = tuple(TypeScore(t, *counts[t]) for t in types)
    macro = sum(s.f1 for s in scores) / len(scores) if scores else 0.0
    return EvalResult(scores, macro, items, tuple(errors))


def render_evaluation(result: EvalResult) -> str:
    """A table of per-type scores, macro-F1, then every error."""
    lines = [f"{'type':<20} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"]
    for s in result.scores:
        lines.append(f"{s.type:<20} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
                     f"{s.tp:4d} {s.fp:4d} {s.fn:4d}")
    lines.append(f"macro-F1 {result.macro_f1:.3f} over {result.items} items, "
                 f"{len(result.errors)} errors")
    for err in result.errors:
        exp = ",".join(sorted(err.expected)) or "none"
        got = ",".join(sorted(err.got)) or "none"
        lines.append(f"- {err.id}: expected {exp}; got {got}\n    {err.text}")
    return "\n".join(lines)
