"""The learned type model's features: hashed n-grams of the match key plus the engine's signals.

A sentence becomes one sparse vector over ``DIM`` hashed buckets, in three blocks that are
scaled on their own and then added (a bucket may be shared; collisions are rare at this size):

1. character 2- to 5-grams of each word of the match key, padded with a space at each end
   (they carry clitics, spelling variants and stems without a stemmer);
2. word 1- and 2-grams of the match key, times ``WORD_WEIGHT``;
3. the rule engine's signals, each worth ``SIGNAL_WEIGHT``: which rules fired and with which
   status, which trigger and cue groups occur, which entity kinds occur (see
   :class:`tracker.classify.engine.SentenceSignals`).

Blocks 1 and 2 use log-scaled counts times the bucket's inverse document frequency (learned
with the weights), L2-normalised per block. Hashing keeps no text: the shipped artefact holds
numbers per bucket, never the n-grams. The hash is our own (a polynomial over code points
mixed with a 64-bit multiplier, CRC-32 for words) so that it is the same on every platform,
and the character part is vectorised with numpy.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

BITS = 18
DIM = 1 << BITS
CHAR_SIZES = (2, 3, 4, 5)
WORD_WEIGHT = 0.6
SIGNAL_WEIGHT = 0.3
_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)
_SHIFT = np.uint64(64 - BITS)
_MIX_INT = int(_MIX)
_MASK64 = (1 << 64) - 1
_SPACE = np.uint64(32)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class RawFeatures:
    """Bucket ids with counts, before weighting: what a sentence contributes."""

    char: tuple[IntArray, IntArray]
    word: tuple[IntArray, IntArray]
    signals: IntArray


def _bucket(hashes: npt.NDArray[np.uint64]) -> IntArray:
    with np.errstate(over="ignore"):
        return ((hashes * _MIX) >> _SHIFT).astype(np.int64)


def _char_hashes(key: str) -> tuple[npt.NDArray[np.uint64], IntArray]:
    """Hashes of every character n-gram inside the words of ``key`` and where each starts
    (an offset into ``key``).

    With one space at each end of the key, an n-gram stays inside one padded word when no
    space lies strictly inside it (spaces only at its ends).
    """
    padded = f" {key} "
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    spaces = np.concatenate(([0], np.cumsum(codes == _SPACE)))  # spaces before position i
    hashes: list[npt.NDArray[np.uint64]] = []
    where: list[IntArray] = []
    with np.errstate(over="ignore"):
        h = codes.copy()
        for n in range(2, max(CHAR_SIZES) + 1):
            if len(codes) < n:
                break
            h = h[:-1] * _PRIME + codes[n - 1:]
            starts = np.arange(len(h))
            inside = spaces[starts + n - 1] - spaces[starts + 1] == 0
            if n in CHAR_SIZES:
                hashes.append(h[inside] ^ np.uint64(n * 0x1F1F))
                where.append(starts[inside] - 1)
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(hashes), np.concatenate(where)


def char_buckets(key: str) -> IntArray:
    """The buckets of every character n-gram inside the words of ``key`` (with repeats)."""
    return _bucket(_char_hashes(key)[0])


@lru_cache(maxsize=1 << 16)
def string_bucket(namespace: str, value: str) -> int:
    """The bucket of one word, word pair or signal name."""
    h = zlib.crc32(value.encode("utf-8"), zlib.crc32(namespace.encode("ascii")))
    return (((h | (len(value) << 32)) * _MIX_INT) & _MASK64) >> (64 - BITS)


def _counted(buckets: IntArray) -> tuple[IntArray, IntArray]:
    ids, counts = np.unique(buckets, return_counts=True)
    return ids, counts.astype(np.int64)


def raw_features(key: str, signals: Iterable[str] = ()) -> RawFeatures:
    """The bucket counts of one sentence's match key and its engine signals."""
    words = key.split()
    word_buckets = [string_bucket("w", w) for w in words]
    word_buckets += [string_bucket("b", f"{a} {b}") for a, b in itertools.pairwise(words)]
    sig = np.unique(np.array([string_bucket("s", s) for s in set(signals)], dtype=np.int64))
    return RawFeatures(_counted(char_buckets(key)),
                       _counted(np.array(word_buckets, dtype=np.int64)), sig)


def _weighted(block: tuple[IntArray, IntArray], idf: FloatArray, weight: float
              ) -> tuple[IntArray, FloatArray]:
    ids, counts = block
    if len(ids) == 0:
        return ids, np.zeros(0, dtype=np.float32)
    values = np.log1p(counts.astype(np.float32)) * idf[ids]
    norm = float(np.sqrt((values * values).sum()))
    return ids, (values * (weight / norm)).astype(np.float32) if norm else values


def vector(raw: RawFeatures, idf: FloatArray) -> tuple[IntArray, FloatArray]:
    """The weighted sparse vector (bucket ids ascending, values) of one sentence."""
    parts = [_weighted(raw.char, idf, 1.0), _weighted(raw.word, idf, WORD_WEIGHT),
             (raw.signals, np.full(len(raw.signals), SIGNAL_WEIGHT, dtype=np.float32))]
    ids = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    uniq, inverse = np.unique(ids, return_inverse=True)
    summed = np.zeros(len(uniq), dtype=np.float32)
    np.add.at(summed, inverse, values)
    return uniq, summed


def batch(keys: Sequence[str], signal_sets: Sequence[Iterable[str]], idf: FloatArray
          ) -> tuple[IntArray, IntArray, FloatArray]:
    """The weighted vectors of several sentences at once, as (row, bucket, value) triples
    sorted by row; a bucket may repeat within a row (once per block; the values add). The
    same numbers as :func:`vector` of each sentence alone, in one numpy pass over all of
    them (the run-time path)."""
    n = len(keys)
    hashes, where = _char_hashes(" ".join(keys))
    offsets = np.cumsum([0] + [len(k) + 1 for k in keys[:-1]]) if keys else np.zeros(0)
    # an n-gram's second character lies in its own word (its first may be the pad space)
    char_rows = np.searchsorted(offsets, where + 1, side="right").astype(np.int64) - 1
    word_rows: list[int] = []
    word_ids: list[int] = []
    sig_rows: list[int] = []
    sig_ids: list[int] = []
    for row, (key, signals) in enumerate(zip(keys, signal_sets, strict=True)):
        words = key.split()
        found = [string_bucket("w", w) for w in words]
        found += [string_bucket("b", f"{a} {b}") for a, b in itertools.pairwise(words)]
        word_ids += found
        word_rows += [row] * len(found)
        sig = sorted({string_bucket("s", x) for x in signals})
        sig_ids += sig
        sig_rows += [row] * len(sig)
    # one sort for all blocks: key = (row, block, bucket); block 0 chars, 1 words, 2 signals
    keyed = np.concatenate([
        char_rows * (3 * DIM) + _bucket(hashes),
        np.array(word_rows, dtype=np.int64) * (3 * DIM) + DIM
        + np.array(word_ids, dtype=np.int64),
        np.array(sig_rows, dtype=np.int64) * (3 * DIM) + 2 * DIM
        + np.array(sig_ids, dtype=np.int64)])
    pairs, counts = np.unique(keyed, return_counts=True)
    rows, rest = np.divmod(pairs, 3 * DIM)
    block, ids = np.divmod(rest, DIM)
    values = np.log1p(counts.astype(np.float32)) * idf[ids]
    group = rows * 3 + block
    norms = np.sqrt(np.bincount(group, weights=values * values, minlength=3 * n))
    scale = np.divide(np.tile(np.array([1.0, WORD_WEIGHT, 0.0]), n), norms,
                      out=np.zeros_like(norms), where=norms > 0)
    values = np.where(block == 2, SIGNAL_WEIGHT, values * scale[group]).astype(np.float32)
    return rows, ids, values
