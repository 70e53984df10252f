"""The learned type model at run time: a loaded artefact and pure scoring of sentences.

The artefact (``tracker/classify/model/types.bin``, written by ``tracker train``) holds, per
event type, one weight per hashed feature bucket, a bias, a Platt calibration (``a``, ``b``:
probability = 1 / (1 + exp(a·score + b))) and the decision threshold chosen on grouped
cross-validation; plus one inverse document frequency per bucket. No text: buckets are
hashes (:mod:`tracker.classify.features`).

File layout (little-endian): the magic ``TRKM``, a 4-byte header length, a UTF-8 JSON header
(version, feature settings, types, calibration, thresholds, training summary), then the idf
vector (``DIM`` float16) and the weights (``DIM × types`` float16, bucket-major). Writing is
deterministic: the same model gives the same bytes.

Load once and pass the model in; scoring never touches files.
"""

from __future__ import annotations

import json
import math
import struct
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

    def index(self, type_id: str) -> int:
        return self.types.index(type_id)

    def scores(self, key: str, signals: Iterable[str]) -> npt.NDArray[np.float64]:
        """Raw linear scores of one sentence for every type."""
        ids, values = features.vector(features.raw_features(key, signals), self.idf)
        out: npt.NDArray[np.float64] = (values @ self.weights[ids]).astype(np.float64)
        return out + self.bias

    def probabilities(self, key: str, signals: Iterable[str]) -> dict[str, float]:
        """Calibrated probability of each type for one sentence."""
        s = self.scores(key, signals)
        p = 1.0 / (1.0 + np.exp(np.clip(self.calib_a * s + self.calib_b, -50, 50)))
        return {t: float(p[i]) for i, t in enumerate(self.types)}

    def threshold(self, type_id: str) -> float:
        return float(self.thresholds[self.index(type_id)])

    def top_words(self, words: Sequence[str], type_id: str, n: int = 3) -> tuple[str, ...]:
        """The words whose features weigh most for ``type_id`` (match-key form)."""
        j = self.index(type_id)
        if not words:
            return ()
        scored: list[tuple[float, int, str]] = []
        for pos, word in enumerate(dict.fromkeys(words)):
            ids = np.unique(np.concatenate([
                features.char_buckets(word),
                np.array([features.string_bucket("w", word)], dtype=np.int64)]))
            weight = float((self.weights[ids, j] * self.idf[ids]).sum()) / math.sqrt(len(ids))
            scored.append((-weight, pos, word))
        scored.sort()
        return tuple(w for neg, _p, w in scored[:n] if neg < 0)

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
        return b"".join([MAGIC, struct.pack("<I", len(head)), head,
                         self.idf.astype("<f2").tobytes(),
                         np.ascontiguousarray(self.weights, dtype="<f2").tobytes()])

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
        start = 8 + size
        idf = np.frombuffer(data, dtype="<f2", count=dim, offset=start).astype(np.float32)
        weights = np.frombuffer(data, dtype="<f2", count=dim * len(types),
                                offset=start + 2 * dim).astype(np.float32)
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
    return TypeModel.from_bytes(shipped.read_bytes(), "tracker/classify/" + SHIPPED)


def shipped_path() -> Path:
    """Where the shipped artefact lives in a source checkout."""
    return Path(__file__).parent / SHIPPED


def calibrated(model: TypeModel, scores: Sequence[float], type_id: str) -> list[float]:
    """Calibrated probabilities of raw scores for one type (evaluation helper)."""
    j = model.index(type_id)
    return [1.0 / (1.0 + math.exp(max(-50.0, min(50.0, model.calib_a[j] * s
                                                 + model.calib_b[j])))) for s in scores]
