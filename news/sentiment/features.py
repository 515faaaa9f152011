"""Features shared by training and scoring (so both compute exactly the same thing)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

NGRAM_RANGE = (2, 5)
_WS = re.compile(r"\s\s+")


@lru_cache(maxsize=1)
def vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def vader_features(text: str) -> list[float]:
    s = vader().polarity_scores(text)
    return [s["neg"], s["neu"], s["pos"], s["compound"]]


def char_ngrams(text: str) -> list[str]:
    """scikit-learn's ``char_wb`` analyzer, re-implemented so scoring needs no sklearn."""
    text = _WS.sub(" ", text.lower())
    out: list[str] = []
    lo, hi = NGRAM_RANGE
    for word in text.split():
        w = f" {word} "
        length = len(w)
        for n in range(lo, hi + 1):
            if n > length:
                break
            out.extend(w[i : i + n] for i in range(length - n + 1))
            if n == length:
                break
    return out


def tfidf_row(text: str, vocabulary: Mapping[str, int], idf: Sequence[float]) -> dict[int, float]:
    counts = Counter(g for g in char_ngrams(text) if g in vocabulary)
    row = {vocabulary[g]: (1.0 + math.log(c)) * idf[vocabulary[g]] for g, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in row.values())) or 1.0
    return {k: v / norm for k, v in row.items()}


def design_matrix(
    texts: Sequence[str], vocabulary: Mapping[str, int], idf: Sequence[float]
) -> np.ndarray:
    """Dense [tfidf | vader(4)] rows (used for small batches and evaluation)."""
    width = len(vocabulary) + 4
    out = np.zeros((len(texts), width), dtype=np.float64)
    for i, text in enumerate(texts):
        for j, v in tfidf_row(text, vocabulary, idf).items():
            out[i, j] = v
        out[i, -4:] = vader_features(text)
    return out
