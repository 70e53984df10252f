"""Near-duplicate stories: MinHash LSH over character 4-grams of the match key.

Ten outlets rewriting one story share many 4-grams even when they share few words. The
index keeps a rolling window of recent items (a few days); :meth:`NearDuplicates.similar`
returns the items whose estimated Jaccard similarity passes the threshold, most similar
first. Similarity only proposes candidates: whether two items report the same event is
decided by :mod:`tracker.timeline` (type, entities, dates). No I/O; the pipeline feeds it.

Signatures are datasketch ``MinHash`` values; the banding (``b`` bands of ``r`` rows, chosen
by datasketch's own optimiser for the threshold) is ours, because at a threshold as low as
0.15 unrelated news on one topic shares buckets, and datasketch's index returns every item of
a bucket: a query would cost time in proportion to the whole window. Each bucket here keeps
only its ``bucket_size`` newest items, so a query costs at most ``b × bucket_size`` scores.
"""

from __future__ import annotations

import zlib
from collections import deque
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH

from tracker.text.normalize import match_key

SHINGLE = 4
TEXT_CHARS = 600  # the headline and the lead are what rewrites of one story share
MAX_MATCHES = 10


def _crc32(data: bytes) -> int:
    """A fast 32-bit hash for shingles (the index lives in one process, so any stable
    hash will do; SHA-1, datasketch's default, costs several times more)."""
    return zlib.crc32(data)


def shingles(text: str) -> set[bytes]:
    """Character 4-grams of the match key (spaces kept, so word edges count)."""
    key = match_key(text[:TEXT_CHARS])
    return {key[i:i + SHINGLE].encode() for i in range(max(1, len(key) - SHINGLE + 1))}


class NearDuplicates:
    """A rolling-window LSH index of item texts, keyed by item id."""

    def __init__(self, threshold: float = 0.15, num_perm: int = 64,
                 window: timedelta = timedelta(days=3), bucket_size: int = 16) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.window = window
        self.bucket_size = bucket_size
        params = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.bands, self.rows = params.b, params.r
        template = MinHash(num_perm=num_perm)
        self._permutations = template.permutations  # drawn once, shared by every MinHash
        self._scheme = template.scheme
        self._buckets: list[dict[bytes, deque[int]]] = [{} for _ in range(self.bands)]
        self._hashes: dict[int, np.ndarray] = {}
        self._order: deque[tuple[datetime, int]] = deque()
        self._expired = 0
        self.last_id = 0

    def __len__(self) -> int:
        return len(self._hashes)

    def _signature(self, text: str) -> np.ndarray:
        m = MinHash(num_perm=self.num_perm, hashfunc=_crc32, permutations=self._permutations,
                    scheme=self._scheme)
        m.update_batch(list(shingles(text)))
        values: np.ndarray = m.hashvalues
        return values

    def _keys(self, sig: np.ndarray) -> list[bytes]:
        r = self.rows
        return [sig[i * r:(i + 1) * r].tobytes() for i in range(self.bands)]

    def similar(self, text: str, limit: int = MAX_MATCHES) -> list[int]:
        """Ids of the (at most ``limit``) indexed items most similar to ``text`` whose
        estimated similarity passes the threshold, most similar first."""
        if not self._hashes:
            return []
        return self._similar(self._signature(text), limit)

    def match_and_add(self, item_id: int, text: str, seen: datetime,
                      limit: int = MAX_MATCHES) -> list[int]:
        """:meth:`similar` then :meth:`add`, hashing the text once."""
        sig = self._signature(text)
        found = self._similar(sig, limit) if self._hashes else []
        self._add(item_id, sig, seen)
        return found

    def _similar(self, sig: np.ndarray, limit: int) -> list[int]:
        found: set[int] = set()
        for band, key in zip(self._buckets, self._keys(sig), strict=True):
            bucket = band.get(key)
            if bucket:
                found.update(bucket)
        candidates = [i for i in found if i in self._hashes]
        if not candidates:
            return []
        scores = (np.stack([self._hashes[i] for i in candidates]) == sig).mean(axis=1)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [candidates[k] for k in order if scores[k] >= self.threshold]

    def add(self, item_id: int, text: str, seen: datetime) -> None:
        if item_id not in self._hashes:
            self._add(item_id, self._signature(text), seen)

    def _add(self, item_id: int, sig: np.ndarray, seen: datetime) -> None:
        if item_id in self._hashes:
            return
        for band, key in zip(self._buckets, self._keys(sig), strict=True):
            bucket = band.get(key)
            if bucket is None:
                bucket = band[key] = deque(maxlen=self.bucket_size)
            bucket.append(item_id)
        self._hashes[item_id] = sig
        self._order.append((seen, item_id))
        self.last_id = max(self.last_id, item_id)

    def expire(self, now: datetime) -> None:
        """Forget items first seen before the window (their bucket entries go lazily)."""
        cutoff = now - self.window
        while self._order and self._order[0][0] < cutoff:
            _, item_id = self._order.popleft()
            self._hashes.pop(item_id, None)
            self._expired += 1
        if self._expired > max(1000, len(self._hashes)):
            self._prune()
            self._expired = 0

    def _prune(self) -> None:
        for band in self._buckets:
            for key in [k for k, ids in band.items() if not any(i in self._hashes for i in ids)]:
                del band[key]
