"""Near-duplicate stories: MinHash LSH over character 4-grams of the match key.

Ten outlets rewriting one story share many 4-grams even when they share few words. The
index keeps a rolling window of recent items (a few days); :meth:`NearDuplicates.similar`
returns the items whose estimated Jaccard similarity passes the threshold. Similarity only
proposes candidates: whether two items report the same event is decided by
:mod:`tracker.timeline` (type, entities, dates). No I/O; the pipeline feeds it.
"""

from __future__ import annotations

import zlib
from collections import deque
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH

from tracker.text.normalize import match_key

SHINGLE = 4
MAX_MATCHES = 10  # the most similar items kept per query; templated feeds match hundreds


def _crc32(data: bytes) -> int:
    """A fast 32-bit hash for shingles (the index lives in one process, so any stable
    hash will do; SHA-1, datasketch's default, costs several times more)."""
    return zlib.crc32(data)


def shingles(text: str) -> set[bytes]:
    """Character 4-grams of the match key (spaces kept, so word edges count)."""
    key = match_key(text)
    return {key[i:i + SHINGLE].encode() for i in range(max(1, len(key) - SHINGLE + 1))}


class NearDuplicates:
    """A rolling-window LSH index of item texts, keyed by item id."""

    def __init__(self, threshold: float = 0.15, num_perm: int = 64,
                 window: timedelta = timedelta(days=3)) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.window = window
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        template = MinHash(num_perm=num_perm)
        self._permutations = template.permutations  # drawn once, shared by every MinHash
        self._scheme = template.scheme
        self._order: deque[tuple[datetime, int]] = deque()
        self._hashes: dict[int, MinHash] = {}
        self.last_id = 0

    def __len__(self) -> int:
        return len(self._hashes)

    def _minhash(self, text: str) -> MinHash:
        m = MinHash(num_perm=self.num_perm, hashfunc=_crc32, permutations=self._permutations,
                    scheme=self._scheme)
        m.update_batch(list(shingles(text)))
        return m

    def similar(self, text: str, limit: int = MAX_MATCHES) -> list[int]:
        """Ids of the (at most ``limit``) indexed items most similar to ``text`` whose
        estimated similarity passes the threshold, most similar first."""
        if not self._hashes:
            return []
        m = self._minhash(text)
        candidates = list(self._lsh.query(m))
        if not candidates:
            return []
        stacked = np.stack([self._hashes[i].hashvalues for i in candidates])
        scores = (stacked == m.hashvalues).mean(axis=1)  # estimated Jaccard, all at once
        order = np.argsort(-scores, kind="stable")[:limit]
        return [candidates[k] for k in order if scores[k] >= self.threshold]

    def add(self, item_id: int, text: str, seen: datetime) -> None:
        if item_id in self._hashes:
            return
        m = self._minhash(text)
        self._lsh.insert(item_id, m)
        self._hashes[item_id] = m
        self._order.append((seen, item_id))
        self.last_id = max(self.last_id, item_id)

    def expire(self, now: datetime) -> None:
        """Forget items first seen before the window."""
        cutoff = now - self.window
        while self._order and self._order[0][0] < cutoff:
            _, item_id = self._order.popleft()
            self._lsh.remove(item_id)
            del self._hashes[item_id]
