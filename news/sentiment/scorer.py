"""The scorer every part of cryptocast uses: pipeline, API and evaluation.

A multinomial logistic regression over character n-gram TF-IDF plus VADER's four scores,
trained on the 2,683 CryptoLin headlines (``manage.py train_sentiment``). The artifact is a
gzipped JSON file (vocabulary, idf, weights): nothing is downloaded and nothing is unpickled.
Score = P(positive) - P(negative), in [-1, 1]; label = the most probable class.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..contracts import Sentiment
from .features import tfidf_row, vader_features

MODEL_PATH = Path(__file__).parent / "model" / "cryptolin-charlr.json.gz"
CLASSES = ("negative", "neutral", "positive")
MAX_TEXT = 1000


@dataclass(frozen=True)
class Model:
    name: str
    version: str
    vocabulary: dict[str, int]
    idf: list[float]
    coef: np.ndarray  # (3, vocab + 4), rows in CLASSES order
    intercept: np.ndarray  # (3,)
    meta: dict[str, Any]

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Model:
        if tuple(doc["classes"]) != CLASSES:
            raise ValueError("sentiment model classes must be negative, neutral, positive")
        coef = np.asarray(doc["coef"], dtype=np.float64)
        vocab = {str(k): int(v) for k, v in doc["vocabulary"].items()}
        if coef.shape != (3, len(vocab) + 4) or len(doc["idf"]) != len(vocab):
            raise ValueError("sentiment model shapes do not match")
        return cls(
            name=str(doc["name"]),
            version=str(doc["version"]),
            vocabulary=vocab,
            idf=[float(x) for x in doc["idf"]],
            coef=coef,
            intercept=np.asarray(doc["intercept"], dtype=np.float64),
            meta=dict(doc.get("meta", {})),
        )

    def probabilities(self, text: str) -> np.ndarray:
        text = text[:MAX_TEXT]
        row = tfidf_row(text, self.vocabulary, self.idf)
        logits = self.intercept.copy()
        if row:
            idx = np.fromiter(row.keys(), dtype=np.int64)
            val = np.fromiter(row.values(), dtype=np.float64)
            logits += self.coef[:, idx] @ val
        logits += self.coef[:, -4:] @ np.asarray(vader_features(text))
        logits -= logits.max()
        p = np.exp(logits)
        return p / p.sum()  # type: ignore[no-any-return]

    def score(self, text: str) -> Sentiment:
        p = self.probabilities(text)
        return _verdict(p)

    def score_article(self, title: str, summary: str = "") -> Sentiment:
        """The title counts twice as much as the summary (the model was trained on titles)."""
        p = self.probabilities(title)
        if summary:
            p = (2 * p + self.probabilities(summary)) / 3
        return _verdict(p)


def _verdict(p: np.ndarray) -> Sentiment:
    label = CLASSES[int(p.argmax())]
    score = float(np.clip(p[2] - p[0], -1.0, 1.0))
    return Sentiment(
        label=label,
        score=round(score, 4),
        probabilities={c: round(float(x), 4) for c, x in zip(CLASSES, p, strict=True)},
    )


_lock = threading.Lock()
_model: Model | None = None


def load(path: Path | None = None) -> Model:
    with gzip.open(path or MODEL_PATH, "rt", encoding="utf-8") as fh:
        return Model.from_json(json.load(fh))


def get_model() -> Model:
    """The process-wide model, loaded on first use (never at import time)."""
    global _model
    with _lock:
        if _model is None:
            _model = load()
        return _model


def score_texts(texts: Sequence[str]) -> list[Sentiment]:
    model = get_model()
    return [model.score(t) for t in texts]


def scorer_name() -> str:
    m = get_model()
    return f"{m.name}@{m.version}"
