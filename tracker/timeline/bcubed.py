"""B-cubed precision and recall of a clustering against gold labels. Pure.

For each element, precision is the share of its predicted cluster that shares its gold
label, recall the share of its gold cluster that its predicted cluster holds; both are
averaged over the elements (Bagga & Baldwin, 1998). An element that lands in no predicted
cluster is its own singleton.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class BCubed:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def bcubed(gold: Mapping[str, str], predicted: Mapping[str, str]) -> BCubed:
    """B-cubed of ``predicted`` (element → cluster) against ``gold`` (element → label)."""
    elements = list(gold)
    if not elements:
        return BCubed(1.0, 1.0)
    cluster = {e: predicted.get(e, f"\x00alone:{e}") for e in elements}
    pairs = Counter((cluster[e], gold[e]) for e in elements)
    sizes = Counter(cluster.values())
    golds = Counter(gold.values())
    precision = sum(pairs[cluster[e], gold[e]] / sizes[cluster[e]] for e in elements)
    recall = sum(pairs[cluster[e], gold[e]] / golds[gold[e]] for e in elements)
    return BCubed(precision / len(elements), recall / len(elements))
