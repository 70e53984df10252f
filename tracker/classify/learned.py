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

import json
import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker.classify import features
from tracker.errors import ConfigError

MAGIC = b"TRKM"
FORMAT_VERSION = 1
SHIPPED = "model/types.bin"
_WORD_CACHE = 50_000  # words whose per-type scores are kept (a few MB at most)


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
    _word_scores: dict[str, npt.NDArray[np.float64]] = field(
        default_factory=dict, init=False, compare=False, repr=False)

    def index(self, type_id: str) -> int:
        return self.types.index(type_id)

    def scores(self, key: str, signals: Iterable[str]) -> npt.NDArray[np.float64]:
        """Raw linear scores of one sentence for every type."""
        row: npt.NDArray[np.float64] = self.batch_scores([key], [signals])[0]
        return row

    def batch_scores(self, keys: Sequence[str], signal_sets: Sequence[Iterable[str]]
                     ) -> npt.NDArray[np.float64]:
        """Raw linear scores, one row per sentence, one column per type."""
        rows, ids, values = features.batch(keys, signal_sets, self.idf)
        out = np.tile(self.bias.astype(np.float64), (len(keys), 1))
        if len(rows):
            present, first = np.unique(rows, return_index=True)  # rows come sorted
            out[present] += np.add.reduceat(self.weights[ids] * values[:, None], first, axis=0)
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
        it were a sentence alone (its character n-grams and itself), positive scores only.
        Word scores are kept in a bounded cache: news vocabulary repeats from item to item."""
        unique = list(dict.fromkeys(words))
        if not unique:
            return ()
        cache = self._word_scores
        missing = [w for w in unique if w not in cache]
        if missing:
            if len(cache) > _WORD_CACHE:
                cache.clear()
            rows, ids, values = features.batch(missing, [()] * len(missing), self.idf)
            table = np.zeros((len(missing), len(self.types)))
            present, first = np.unique(rows, return_index=True)
            table[present] = np.add.reduceat(self.weights[ids] * values[:, None], first, axis=0)
            cache.update(zip(missing, table, strict=True))
        j = self.types.index(type_id)
        score = [float(cache[w][j]) for w in unique]
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
                         "signal_weight": features.SIGNAL_WEIGHT},
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
        if header["features"]["char_sizes"] != list(features.CHAR_SIZES):
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
