"""The learned type model's features: hashed n-grams of the match key plus the engine's signals.

A sentence becomes one sparse vector over ``DIM`` hashed buckets, in three blocks that are
added (a bucket may be shared; collisions are rare at this size):

1. the words' character 2- to 5-grams (each word padded with a space at each end: they carry
   clitics, spelling variants and stems without a stemmer). Each word is a vector of its own
   n-grams (log-scaled counts times the bucket's inverse document frequency, L2-normalised),
   and the block is the sum of the sentence's word vectors divided by the square root of the
   number of words — the sentence vector of fastText-style subword models;
2. word 1- and 2-grams of the match key: each occurrence worth its bucket's inverse document
   frequency, the block divided by the root of the sum of their squares, times ``WORD_WEIGHT``;
3. the rule engine's signals, each worth ``SIGNAL_WEIGHT``: which rules fired and with which
   status, which trigger and cue groups occur, which entity kinds occur (see
   :class:`tracker.classify.engine.SentenceSignals`).

Both text blocks are sums over words (and word pairs) with one normaliser per sentence, so a
linear model's score of a sentence is a sum of per-word scores that can be kept from item to
item (:class:`tracker.classify.learned.TypeModel` does so; news vocabulary repeats).

Hashing keeps no text: the shipped artefact holds numbers per bucket, never the n-grams. The
hash is our own (a polynomial over code points mixed with a 64-bit multiplier, CRC-32 for
words) so that it is the same on every platform, and the character part is vectorised with
numpy.
"""

from __future__ import annotations

import itertools
import zlib
from collections import Counter
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
LAYOUT = "word-sum-1"  # how the blocks are built (kept in the artefact: a change retrains)
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
    """What a sentence contributes before weighting (training keeps these across folds,
    whose inverse document frequencies differ)."""

    words: tuple[str, ...]  # the match key's words, in order
    tokens: IntArray  # the bucket of every word and word-pair occurrence
    signals: IntArray  # distinct signal buckets

    def buckets(self) -> IntArray:
        """Every text bucket the sentence touches (for document frequencies)."""
        return np.union1d(char_buckets(" ".join(self.words)), self.tokens)


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


def word_tokens(words: Sequence[str]) -> list[int]:
    """The buckets of each word and each pair of neighbouring words."""
    found = [string_bucket("w", w) for w in words]
    found += [string_bucket("b", f"{a} {b}") for a, b in itertools.pairwise(words)]
    return found


def signal_buckets(signals: Iterable[str]) -> IntArray:
    return np.unique(np.array([string_bucket("s", s) for s in set(signals)], dtype=np.int64))


def raw_features(key: str, signals: Iterable[str] = ()) -> RawFeatures:
    """What one sentence's match key and engine signals contribute."""
    words = tuple(key.split())
    return RawFeatures(words, np.array(word_tokens(words), dtype=np.int64),
                       signal_buckets(signals))


def word_vectors(words: Sequence[str], idf: FloatArray
                 ) -> tuple[IntArray, IntArray, FloatArray]:
    """Each word's own character n-gram vector, as (word index, bucket, value) triples sorted
    by word: log-scaled counts times idf, L2-normalised per word (block 1 before the sum)."""
    if not words:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    hashes, where = _char_hashes(" ".join(words))
    offsets = np.cumsum([0] + [len(w) + 1 for w in words[:-1]])
    # an n-gram's second character lies in its own word (its first may be the pad space)
    rows = np.searchsorted(offsets, where + 1, side="right").astype(np.int64) - 1
    pairs, counts = np.unique(rows * DIM + _bucket(hashes), return_counts=True)
    rows, ids = np.divmod(pairs, DIM)
    values = np.log1p(counts.astype(np.float32)) * idf[ids]
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(words)))
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return rows, ids, (values * scale[rows]).astype(np.float32)


def vector(raw: RawFeatures, idf: FloatArray) -> tuple[IntArray, FloatArray]:
    """The weighted sparse vector (bucket ids ascending, values) of one sentence: the
    definition the model is trained on (the run-time scorer sums the same terms per word)."""
    parts_ids: list[IntArray] = []
    parts_values: list[FloatArray] = []
    if raw.words:
        counted = Counter(raw.words)
        unique = list(counted)
        rows, ids, values = word_vectors(unique, idf)
        times = np.array([counted[w] for w in unique], dtype=np.float32)
        parts_ids.append(ids)
        parts_values.append(values * times[rows] / np.float32(np.sqrt(len(raw.words))))
    if len(raw.tokens):
        weights = idf[raw.tokens]
        norm = float(np.sqrt((weights * weights).sum()))
        if norm:
            parts_ids.append(raw.tokens)
            parts_values.append(weights * np.float32(WORD_WEIGHT / norm))
    parts_ids.append(raw.signals)
    parts_values.append(np.full(len(raw.signals), SIGNAL_WEIGHT, dtype=np.float32))
    ids = np.concatenate(parts_ids)
    values = np.concatenate(parts_values)
    uniq, inverse = np.unique(ids, return_inverse=True)
    summed = np.zeros(len(uniq), dtype=np.float32)
    np.add.at(summed, inverse, values)
    return uniq, summed
