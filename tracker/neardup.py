"""Near-duplicate stories: MinHash LSH over character 4-grams of the match key.

Ten outlets rewriting one story share many 4-grams even when they share few words. The
index keeps a rolling window of recent items (a few days); :meth:`NearDuplicates.similar`
returns the items whose estimated Jaccard similarity passes the threshold, most similar
first. Similarity only proposes candidates: whether two items report the same event is
decided by :mod:`tracker.timeline` (type, entities, dates). No I/O; the pipeline feeds it.

Signatures are computed with numpy over all of a text's shingles at once, in the scheme
datasketch 2.x calls "affine32" (the values are bit-for-bit those its ``MinHash`` gave with
``seed=1``, which ``tests/data/perf/neardup.jsonl`` checks): each shingle's CRC-32 is mixed
by the MurmurHash3 finalizer, then permutation ``k`` maps it to ``a_k * h + b_k mod 2^32``
(``a_k`` odd, drawn with ``numpy.random.RandomState(1)``), and the signature keeps each
permutation's minimum. The banding (``b`` bands of ``r`` rows) minimises the mean of the
false-positive and false-negative probabilities for the threshold, as datasketch's
optimiser does, integrated exactly (Gauss–Legendre: the integrands are polynomials).

The buckets are ours, because at a threshold as low as 0.15 unrelated news on one topic
shares buckets, and an index that returns every item of a bucket makes a query cost time in
proportion to the whole window. Each bucket here keeps only its ``bucket_size`` newest
items, so a query costs at most ``b × bucket_size`` scores.

Memory: unrelated news shares almost no bucket, so each item opens about as many buckets as
there are bands (32). A bucket is therefore kept small: its key is a Python int (the band's
rows packed), a bucket of one item is that item's id, and only a bucket that several items
share holds a list (oldest first) — about 3 KB per real news item instead of ~30 KB with a
``deque`` under a ``bytes`` key per bucket.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

from tracker.text.normalize import match_key

SHINGLE = 4
TEXT_CHARS = 600  # the headline and the lead are what rewrites of one story share
MAX_MATCHES = 10
SEED = 1  # datasketch's default seed: the permutations every stored decision was made with

_U32 = np.uint32
Bucket = int | list[int]  # one item's id, or the ids of the items sharing it, oldest first


def shingle_list(text: str) -> list[bytes]:
    """Character 4-grams of the match key (spaces kept, so word edges count), with repeats
    (a repeat cannot change a minimum); an empty key gives one empty shingle."""
    key = _key(text)
    return [key[i:i + SHINGLE].encode() for i in range(max(1, len(key) - SHINGLE + 1))]


def _key(text: str) -> str:
    """What is shingled of a text: the match key of its first ``TEXT_CHARS`` characters."""
    return match_key(text[:TEXT_CHARS])


def shingle_hashes(text: str) -> np.ndarray:
    """CRC-32 of every shingle of ``text`` (any stable 32-bit hash would do inside one
    process; this one is what the stored decisions were made with)."""
    found = shingle_list(text)
    return np.fromiter(map(zlib.crc32, found), dtype=_U32, count=len(found))


def _hashes_in_batches(texts: Iterable[str], batch: int = 32) -> Iterator[np.ndarray]:
    """:func:`shingle_hashes_many` over ``batch`` texts at a time (bounded memory)."""
    todo: list[str] = []
    for text in texts:
        todo.append(text)
        if len(todo) == batch:
            yield from shingle_hashes_many(todo)
            todo.clear()
    if todo:
        yield from shingle_hashes_many(todo)


@lru_cache(maxsize=1)
def _crc_table() -> np.ndarray:
    """The byte table of CRC-32 (reflected polynomial 0xEDB88320, as zlib's)."""
    table = np.arange(256, dtype=_U32)
    for _ in range(8):
        table = np.where(table & _U32(1), (table >> _U32(1)) ^ _U32(0xEDB88320),
                         table >> _U32(1)).astype(_U32)
    table.flags.writeable = False
    return table


def shingle_hashes_many(texts: Iterable[str]) -> list[np.ndarray]:
    """:func:`shingle_hashes` of many texts, the CRC-32s of all their shingles computed
    together: each shingle is a run of the texts' joined UTF-8 bytes, and the table-driven
    CRC steps over every run at once, one byte position at a time (a 4-gram is at most 16
    bytes), so Python does per text only the match key and its code-point offsets."""
    blobs: list[bytes] = []
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    counts: list[int] = []
    base = 0
    for text in texts:
        key = _key(text)
        data = key.encode()
        n = len(key)
        if n == len(data):
            offsets = np.arange(n + 1)
        else:  # UTF-8 length of each code point: 1 + (≥ U+0080) + (≥ U+0800) + (≥ U+10000)
            points = np.frombuffer(key.encode("utf-32-le"), dtype=_U32)
            sizes = (1 + (points >= 0x80).astype(np.int64) + (points >= 0x800)
                     + (points >= 0x10000))
            offsets = np.concatenate(([0], np.cumsum(sizes)))
        first = np.arange(max(1, n - SHINGLE + 1))
        starts.append(base + offsets[first])
        ends.append(base + offsets[np.minimum(first + SHINGLE, n)])
        counts.append(len(first))
        blobs.append(data)
        base += len(data)
    if not counts:
        return []
    buf = np.frombuffer(b"".join(blobs) + bytes(4 * SHINGLE), dtype=np.uint8).astype(_U32)
    start = np.concatenate(starts)
    width = np.concatenate(ends) - start
    table = _crc_table()
    crc = np.full(len(start), 0xFFFFFFFF, dtype=_U32)
    for k in range(int(width.max())):
        stepped = table[(crc ^ buf[start + k]) & _U32(0xFF)] ^ (crc >> _U32(8))
        crc = np.where(width > k, stepped, crc)
    crc ^= _U32(0xFFFFFFFF)
    return np.split(crc, np.cumsum(counts)[:-1])


def shingles(text: str) -> set[bytes]:
    """Character 4-grams of the match key, as a set."""
    return set(shingle_list(text))


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` columns of the affine permutations: ``a`` odd, both uint32, shaped
    ``(num_perm, 1)`` to broadcast over a row of shingle hashes."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=_U32) * _U32(2) + _U32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=_U32)
    a.flags.writeable = b.flags.writeable = False
    return a.reshape(-1, 1), b.reshape(-1, 1)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer (a bijection; multiplication wraps mod 2^32)."""
    h = h ^ (h >> _U32(16))
    h = h * _U32(0x85EBCA6B)
    h = h ^ (h >> _U32(13))
    h = h * _U32(0xC2B2AE35)
    mixed: np.ndarray = h ^ (h >> _U32(16))
    return mixed


def signature(hashes: np.ndarray, perms: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The MinHash signature (uint32, one value per permutation) of 32-bit shingle hashes."""
    a, b = perms
    values: np.ndarray = (a * _fmix32(hashes) + b).min(axis=1)
    return values


@lru_cache(maxsize=32)
def banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands × rows ≤ num_perm`` minimising the mean of the
    probabilities of a false positive (similarity below ``threshold`` sharing a bucket) and
    a false negative (above it sharing none), ties to the fewest bands then rows."""
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 2)  # exact to 2n-1

    def integral(lo: float, hi: float, b: int, r: int, positive: bool) -> float:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        hit = 1 - (1 - s ** float(r)) ** float(b)
        return float((hi - lo) / 2 * np.dot(weights, hit if positive else 1 - hit))

    best, choice = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            error = (0.5 * integral(0.0, threshold, b, r, True)
                     + 0.5 * integral(threshold, 1.0, b, r, False))
            if error < best:
                best, choice = error, (b, r)
    return choice


class NearDuplicates:
    """A rolling-window LSH index of item texts, keyed by item id."""

    def __init__(self, threshold: float = 0.15, num_perm: int = 64,
                 window: timedelta = timedelta(days=3), bucket_size: int = 16) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.window = window
        self.bucket_size = bucket_size
        self.bands, self.rows = banding(threshold, num_perm)
        self._perms = permutations(num_perm)
        self._buckets: list[dict[int | bytes, Bucket]] = [{} for _ in range(self.bands)]
        self._hashes: dict[int, np.ndarray] = {}
        self._order: deque[tuple[datetime, int]] = deque()
        self._expired = 0
        self.last_id = 0

    def __len__(self) -> int:
        return len(self._hashes)

    def _signature(self, text: str) -> np.ndarray:
        return signature(shingle_hashes(text), self._perms)

    def _signatures(self, texts: Iterable[str], chunk: int = 16_384) -> list[np.ndarray]:
        """Signatures of many texts, permuting up to ``chunk`` shingles in one numpy pass
        (``num_perm × chunk`` values at a time bounds the memory)."""
        out: list[np.ndarray] = []
        a, b = self._perms
        group: list[np.ndarray] = []

        def flush() -> None:
            starts = np.cumsum([0] + [len(h) for h in group[:-1]])
            values = np.minimum.reduceat(a * _fmix32(np.concatenate(group)) + b, starts, axis=1)
            out.extend(np.ascontiguousarray(values.T))
            group.clear()

        size = 0
        for hashes in _hashes_in_batches(texts):
            group.append(hashes)
            size += len(hashes)
            if size >= chunk:
                flush()
                size = 0
        if group:
            flush()
        return out

    def _keys(self, sig: np.ndarray) -> list[int | bytes]:
        """One key per band: its rows' values, packed into an int where they fit in 64 bits
        (equal keys ⇔ equal rows, as with the rows' bytes)."""
        r, b = self.rows, self.bands
        rows = np.ascontiguousarray(sig[:b * r])
        if r == 1:
            keys: list[int | bytes] = rows.tolist()
            return keys
        if r == 2:
            keys = rows.view(np.uint64).tolist()
            return keys
        return [rows[i * r:(i + 1) * r].tobytes() for i in range(b)]

    def buckets(self) -> Iterator[tuple[int, ...]]:
        """The item ids of every bucket, oldest first (for inspection and tests)."""
        for band in self._buckets:
            for ids in band.values():
                yield (ids,) if isinstance(ids, int) else tuple(ids)

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
            if bucket is None:
                continue
            if isinstance(bucket, int):
                found.add(bucket)
            else:
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

    def add_many(self, items: Iterable[tuple[int, str, datetime]]) -> None:
        """:meth:`add` for many ``(item_id, text, seen)``, hashed together."""
        todo = [(i, t, seen) for i, t, seen in items if i not in self._hashes]
        for (item_id, _, seen), sig in zip(todo, self._signatures(t for _, t, _ in todo),
                                           strict=True):
            self._add(item_id, sig, seen)

    def _add(self, item_id: int, sig: np.ndarray, seen: datetime) -> None:
        if item_id in self._hashes:
            return
        size = self.bucket_size
        for band, key in zip(self._buckets, self._keys(sig), strict=True):
            bucket = band.get(key)
            if bucket is None:
                if size > 0:
                    band[key] = item_id
            elif isinstance(bucket, int):
                band[key] = [bucket, item_id] if size > 1 else item_id
            else:  # the newest ``size`` ids, as a deque(maxlen=size) would keep them
                bucket.append(item_id)
                if len(bucket) > size:
                    del bucket[0]
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
            gone = [k for k, ids in band.items()
                    if not (ids in self._hashes if isinstance(ids, int)
                            else any(i in self._hashes for i in ids))]
            for key in gone:
                del band[key]
