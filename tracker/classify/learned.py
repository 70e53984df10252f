"""The learned type model at run time: a loaded artefact and pure scoring of sentences.

The artefact (``tracker/classify/model/types.bin``, written by ``tracker train``) holds, per
event type, one weight per hashed feature bucket, a bias, a Platt calibration (``a``, ``b``:
probability = 1 / (1 + exp(a·score + b))) and the decision threshold chosen on grouped
cross-validation; plus one inverse document frequency per bucket. No text: buckets are
hashes (:mod:`tracker.classify.features`).

File layout (little-endian): the magic ``TRKM``, a 4-byte header length, a UTF-8 JSON header
(version, feature settings, types, calibration, thresholds, training summary), then, zlib-
compressed (level 9), the idf vector (``DIM`` float16) and the weights (``DIM × types``
float16, bucket-major; most buckets are never seen and stay 0). Writing is deterministic: the
same model gives the same bytes.

Load once and pass the model in; scoring never touches files.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker.classify import features
from tracker.errors import ConfigError

MAGIC = b"TRKM"
FORMAT_VERSION = 2
SHIPPED = "model/types.bin"
_KEPT = 50_000  # words (and word pairs, signal sets) whose score parts are kept: a few MB


class _Kept:
    """Per-string parts of the linear scores, kept from item to item (news vocabulary
    repeats): one row per word or word pair, computed in one pass for the strings not yet
    kept. Bounded: cleared when full."""

    def __init__(self, compute: Callable[[list[str]], npt.NDArray[np.float64]]) -> None:
        self.compute = compute
        self.rows: dict[str, int] = {}
        self.table: npt.NDArray[np.float64] = np.zeros((0, 0))

    def of(self, strings: Sequence[str]) -> npt.NDArray[np.int64]:
        rows = self.rows
        missing = list(dict.fromkeys(w for w in strings if w not in rows))
        if missing:
            if len(rows) + len(missing) > _KEPT or not len(self.table):
                rows.clear()
                missing = list(dict.fromkeys(strings))
            parts = self.compute(missing)
            size = len(rows)
            if not len(self.table) or size + len(missing) > len(self.table):
                grown = np.zeros((max(2 * len(self.table), size + len(missing), 4096),
                                  parts.shape[1]))
                if size:
                    grown[:size] = self.table[:size]
                self.table = grown
            self.table[size:size + len(missing)] = parts
            rows.update(zip(missing, range(size, size + len(missing)), strict=True))
        return np.fromiter((rows[w] for w in strings), dtype=np.int64, count=len(strings))


def _segment_sums(values: npt.NDArray[np.float64], lengths: npt.NDArray[np.int64]
                  ) -> npt.NDArray[np.float64]:
    """Sums of consecutive runs of rows of ``values`` (run lengths may be 0)."""
    total = np.zeros((len(values) + 1, values.shape[1]))
    np.cumsum(values, axis=0, out=total[1:])
    ends = np.cumsum(lengths)
    out: npt.NDArray[np.float64] = total[ends] - total[ends - lengths]
    return out


@dataclass(frozen=True)
class TypeModel:
    """Per-type linear weights over hashed features, calibrated, with thresholds."""

    types: tuple[str, ...]
    weights: npt.NDArray[np.float32]  # (DIM, len(types))
    bias: npt.NDArray[np.float32]  # (len(types),)
    calib_a: npt.NDArray[np.float64]
    calib_b: npt.NDArray[np.float64]
    thresholds: npt.NDArray[np.float64]
    idf: npt.NDArray[np.float32]  # (DIM,)
    meta: dict[str, Any] = field(default_factory=dict)
    # score parts kept from item to item (filled as sentences are scored)
    _words: _Kept = field(init=False, compare=False, repr=False)
    _pairs: _Kept = field(init=False, compare=False, repr=False)
    _signals: dict[frozenset[str], npt.NDArray[np.float64]] = field(
        default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_words", _Kept(self.word_parts))
        object.__setattr__(self, "_pairs", _Kept(self.pair_parts))

    def index(self, type_id: str) -> int:
        return self.types.index(type_id)

    def scores(self, key: str, signals: Iterable[str]) -> npt.NDArray[np.float64]:
        """Raw linear scores of one sentence for every type."""
        row: npt.NDArray[np.float64] = self.batch_scores([key], [signals])[0]
        return row

    def word_parts(self, words: Sequence[str]) -> npt.NDArray[np.float64]:
        """Per word: its character-block score for every type (its n-gram vector times the
        weights), its own bucket's weight times idf for every type, and that idf squared
        (its share of the word block's normaliser)."""
        n_types = len(self.types)
        out = np.zeros((len(words), 2 * n_types + 1))
        rows, ids, values = features.word_vectors(words, self.idf)
        if len(rows):
            np.add.at(out[:, :n_types], rows, self.weights[ids] * values[:, None])
        own = np.array([features.string_bucket("w", w) for w in words], dtype=np.int64)
        out[:, n_types:2 * n_types] = self.weights[own] * self.idf[own][:, None]
        out[:, 2 * n_types] = self.idf[own].astype(np.float64) ** 2
        return out

    def pair_parts(self, pairs: Sequence[str]) -> npt.NDArray[np.float64]:
        """Per word pair: its bucket's weight times idf for every type, and that idf squared."""
        ids = np.array([features.string_bucket("b", p) for p in pairs], dtype=np.int64)
        idf = self.idf[ids].astype(np.float64)
        return np.hstack([self.weights[ids] * idf[:, None], (idf ** 2)[:, None]])

    def _signal_part(self, signals: Iterable[str]) -> npt.NDArray[np.float64]:
        kept = self._signals
        key = signals if isinstance(signals, frozenset) else frozenset(signals)
        part = kept.get(key)
        if part is None:
            if len(kept) > _KEPT:
                kept.clear()
            sig = features.signal_buckets(key)
            part = features.SIGNAL_WEIGHT * self.weights[sig].astype(np.float64).sum(axis=0)
            kept[key] = part
        return part

    def batch_scores(self, keys: Sequence[str], signal_sets: Sequence[Iterable[str]]
                     ) -> npt.NDArray[np.float64]:
        """Raw linear scores, one row per sentence, one column per type: the terms of
        :func:`tracker.classify.features.vector` summed per word and word pair, from kept
        parts (the same numbers, in another order)."""
        n_types = len(self.types)
        split = [k.split() for k in keys]
        counts = np.array([len(ws) for ws in split], dtype=np.int64)
        words, pairs = self._words, self._pairs
        word_rows = words.of([w for ws in split for w in ws])  # before reading the tables:
        pair_rows = pairs.of([f"{a} {b}" for ws in split for a, b in itertools.pairwise(ws)])
        per_word = _segment_sums(words.table[word_rows, :2 * n_types + 1], counts)
        per_pair = _segment_sums(pairs.table[pair_rows, :n_types + 1],
                                 np.maximum(counts - 1, 0))
        word_norm = np.sqrt(per_word[:, -1] + per_pair[:, -1])
        word_scale = np.divide(features.WORD_WEIGHT, word_norm,
                               out=np.zeros_like(word_norm), where=word_norm > 0)
        char_scale = 1.0 / np.sqrt(np.maximum(counts, 1))
        signal = np.array([self._signal_part(s) for s in signal_sets]).reshape(-1, n_types)
        out: npt.NDArray[np.float64] = (
            self.bias.astype(np.float64) + signal
            + per_word[:, :n_types] * char_scale[:, None]
            + (per_word[:, n_types:2 * n_types] + per_pair[:, :n_types]) * word_scale[:, None])
        return out

    def calibrate(self, scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities of raw scores (rows of sentences, columns of types)."""
        out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(
            np.clip(self.calib_a * scores + self.calib_b, -50, 50)))
        return out

    def probabilities(self, key: str, signals: Iterable[str]) -> dict[str, float]:
        """Calibrated probability of each type for one sentence."""
        p = self.calibrate(self.scores(key, signals))
        return {t: float(p[i]) for i, t in enumerate(self.types)}

    def threshold(self, type_id: str) -> float:
        return float(self.thresholds[self.types.index(type_id)])

    def top_words(self, words: Sequence[str], type_id: str, n: int = 3) -> tuple[str, ...]:
        """The words that weigh most for ``type_id`` (match-key form): each word scored as if
        it were a sentence alone (its character n-grams and itself), positive scores only."""
        unique = list(dict.fromkeys(words))
        if not unique:
            return ()
        kept = self._words
        rows = kept.of(unique)  # first: it may grow the table
        parts = kept.table[rows]
        j, n_types = self.types.index(type_id), len(self.types)
        own = np.sqrt(parts[:, 2 * n_types])
        alone = parts[:, j] + np.divide(features.WORD_WEIGHT * parts[:, n_types + j], own,
                                        out=np.zeros_like(own), where=own > 0)
        score = [float(x) for x in alone]
        order = sorted(range(len(unique)), key=lambda i: (-score[i], i))
        return tuple(unique[i] for i in order[:n] if score[i] > 0)

    def top_signals(self, signals: Iterable[str], type_id: str, n: int = 3
                    ) -> tuple[str, ...]:
        """The engine signals that weigh most for ``type_id`` (positive weights only)."""
        j = self.index(type_id)
        ranked = sorted((-float(self.weights[features.string_bucket("s", s), j]), s)
                        for s in set(signals))
        return tuple(s for neg, s in ranked[:n] if neg < 0)

    # --- the artefact --------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        header = {
            "version": FORMAT_VERSION, "dim": features.DIM, "types": list(self.types),
            "bias": [round(float(x), 6) for x in self.bias],
            "calib_a": [round(float(x), 6) for x in self.calib_a],
            "calib_b": [round(float(x), 6) for x in self.calib_b],
            "thresholds": [round(float(x), 4) for x in self.thresholds],
            "features": {"char_sizes": list(features.CHAR_SIZES),
                         "word_weight": features.WORD_WEIGHT,
                         "signal_weight": features.SIGNAL_WEIGHT,
                         "layout": features.LAYOUT},
            "meta": self.meta,
        }
        head = json.dumps(header, sort_keys=True, ensure_ascii=False).encode("utf-8")
        body = zlib.compress(self.idf.astype("<f2").tobytes()
                             + np.ascontiguousarray(self.weights, dtype="<f2").tobytes(), 9)
        return b"".join([MAGIC, struct.pack("<I", len(head)), head, body])

    @classmethod
    def from_bytes(cls, data: bytes, origin: str = "model") -> TypeModel:
        if data[:4] != MAGIC:
            raise ConfigError(origin, "model", "not a tracker model file")
        (size,) = struct.unpack("<I", data[4:8])
        header = json.loads(data[8:8 + size].decode("utf-8"))
        if header.get("version") != FORMAT_VERSION or header.get("dim") != features.DIM:
            raise ConfigError(origin, "model", f"model format {header.get('version')} / "
                              f"{header.get('dim')} buckets; this tracker reads "
                              f"{FORMAT_VERSION} / {features.DIM}: run `tracker train`")
        settings = header["features"]
        if (settings["char_sizes"] != list(features.CHAR_SIZES)
                or settings.get("layout") != features.LAYOUT):
            raise ConfigError(origin, "model", "built with other feature settings: retrain")
        types = tuple(header["types"])
        dim = features.DIM
        try:
            body = zlib.decompress(data[8 + size:])
        except zlib.error as exc:
            raise ConfigError(origin, "model", f"damaged model file: {exc}") from exc
        if len(body) != 2 * dim * (1 + len(types)):
            raise ConfigError(origin, "model", "damaged model file: wrong size")
        idf = np.frombuffer(body, dtype="<f2", count=dim).astype(np.float32)
        weights = np.frombuffer(body, dtype="<f2", count=dim * len(types),
                                offset=2 * dim).astype(np.float32)
        return cls(types=types, weights=weights.reshape(dim, len(types)),
                   bias=np.array(header["bias"], dtype=np.float32),
                   calib_a=np.array(header["calib_a"]), calib_b=np.array(header["calib_b"]),
                   thresholds=np.array(header["thresholds"]), idf=idf,
                   meta=header.get("meta", {}))


def load_model(path: Path | None = None) -> TypeModel:
    """The model at ``path``, or the one shipped in the package."""
    if path is not None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(str(path), "classifier.model", f"cannot read: {exc}") from exc
        return TypeModel.from_bytes(data, str(path))
    shipped = resources.files("tracker.classify").joinpath(SHIPPED)
    try:
        data = shipped.read_bytes()
    except OSError as exc:
        raise ConfigError("tracker/classify/" + SHIPPED, "classifier.model",
                          "the package ships no model: rebuild it with `scripts/train-model`"
                          " or set model = \"rules\"") from exc
    return TypeModel.from_bytes(data, "tracker/classify/" + SHIPPED)


def shipped_path() -> Path:
    """Where the shipped artefact lives in a source checkout."""
    return Path(__file__).parent / SHIPPED


def calibrated(model: TypeModel, scores: Sequence[float], type_id: str) -> list[float]:
    """Calibrated probabilities of raw scores for one type (evaluation helper)."""
    j = model.index(type_id)
    return [1.0 / (1.0 + math.exp(max(-50.0, min(50.0, model.calib_a[j] * s
                                                 + model.calib_b[j])))) for s in scores]
