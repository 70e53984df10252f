"""Near-duplicate window benchmark: CPU per item of filling the window (MinHash of every text:
match key, 4-gram CRC-32s, permutations, banding), the batched numpy CRC-32 against one
``zlib.crc32`` call per shingle (the code before it), alternated in one run.

A fresh daemon's first cycle hashes its whole window this way (20,000 items at 1,000 feeds);
afterwards only new items are hashed. Texts are news-like word mixes (Arabic with Latin
product names), 20–90 words, generated with a fixed seed.

Run: ``.venv/bin/python bench/bench_neardup.py [--items 20000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from tracker import neardup

WORDS = (
    "إنفيديا", "هواوي", "رقائق", "الذكاء", "الاصطناعي", "الصين", "واشنطن", "تصدير",
    "ترخيص", "شركة", "أعلنت", "الإنتاج", "الضخم", "مليار", "دولار", "الربع", "الماضي",
    "إيرادات", "ارتفعت", "قيود", "جديدة", "على", "أشباه", "الموصلات", "المتقدمة", "H20",
    "Nvidia", "TSMC",
)


def per_shingle(texts: Iterable[str], batch: int = 32) -> Iterator[np.ndarray]:
    """The baseline: one zlib.crc32 call per shingle, text by text."""
    return (neardup.shingle_hashes(t) for t in texts)


def fill(items: list[tuple[int, str, datetime]], baseline: bool) -> float:
    """CPU seconds of one fresh window's add_many over ``items``."""
    batched = neardup._hashes_in_batches
    if baseline:
        neardup._hashes_in_batches = per_shingle
    try:
        index = neardup.NearDuplicates()
        start = time.process_time()
        index.add_many(items)
        return time.process_time() - start
    finally:
        neardup._hashes_in_batches = batched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(1)
    seen = datetime(2026, 12, 1, tzinfo=UTC)
    items = [(i + 1, " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 90))), seen)
             for i in range(args.items)]
    after: list[float] = []
    before: list[float] = []
    for _ in range(args.rounds):
        before.append(fill(items, baseline=True))
        after.append(fill(items, baseline=False))
    for name, times in (("batched CRC-32 (after)", after), ("zlib per shingle (before)", before)):
        print(f"{name:28} median {statistics.median(times):6.2f} s CPU, "
              f"{statistics.median(times) / args.items * 1e6:5.0f} µs per item")
    print(f"before / after: {statistics.median(before) / statistics.median(after):.2f}×")


if __name__ == "__main__":
    main()
