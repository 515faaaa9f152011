"""Fit and evaluate the headline scorer on CryptoLin (training workers and commands only:
nothing that serves imports this module, so scikit-learn and SciPy load at its top).

Evaluation never scores a row the model was fitted on: 5-fold stratified cross-validation
(seed 0) and a chronological split (fit on the oldest 80 %, test on the newest 20 %). VADER,
a majority-class baseline and the scores recorded in the original CryptoLin file (VADER,
TextBlob, Flair, FinBERT classes) are measured on the same rows in the same run.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from .features import NGRAM_RANGE, vader_features
from .scorer import CLASSES, Model

LABELS = {-1: "negative", 0: "neutral", 1: "positive"}
RECORDED = {
    "vader (recorded)": "vader_class",
    "textblob (recorded)": "textblob_class",
    "flair (recorded)": "flair_class",
    "finbert_positive_class (recorded)": "finbert_positive_class",
    "finbert_negative_class (recorded)": "finbert_negative_class",
    "finbert_neutral_class (recorded)": "finbert_neutral_class",
}
C = 3.0
MIN_DF = 2


@dataclass(frozen=True)
class Labelled:
    id: str
    date: str
    text: str
    label: int  # -1, 0, 1
    recorded: dict[str, int] = field(default_factory=dict)


def read_cryptolin(path: Path) -> list[Labelled]:
    """``CryptoLin_IE.original.csv`` (carries the recorded baseline classes)."""
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                Labelled(
                    id=r["id"],
                    date=r["date"],
                    text=r["news"],
                    label=int(r["final_manual_labelling"]),
                    recorded={k: int(float(r[c])) for k, c in RECORDED.items() if r.get(c)},
                )
            )
    return rows


def fit(texts: Sequence[str], labels: Any, *, c: float = C) -> Model:
    vec = TfidfVectorizer(
        analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True, min_df=MIN_DF
    )
    tfidf = vec.fit_transform(texts)
    vader = csr_matrix(np.asarray([vader_features(t) for t in texts]))
    x = hstack([tfidf, vader]).tocsr()
    y = np.asarray(labels)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y)
    order = [list(clf.classes_).index(k) for k in (-1, 0, 1)]
    return Model(
        name="cryptolin-charlr",
        version="1",
        vocabulary={str(k): int(v) for k, v in vec.vocabulary_.items()},
        idf=[float(v) for v in vec.idf_],
        coef=np.asarray(clf.coef_)[order],
        intercept=np.asarray(clf.intercept_)[order],
        meta={},
    )


def predict(model: Model, texts: Sequence[str]) -> list[int]:
    back = {"negative": -1, "neutral": 0, "positive": 1}
    return [back[model.score(t).label] for t in texts]


def vader_predict(texts: Sequence[str]) -> list[int]:
    out = []
    for t in texts:
        compound = vader_features(t)[3]
        out.append(1 if compound >= 0.05 else -1 if compound <= -0.05 else 0)
    return out


def metrics(y: Any, p: Any) -> dict[str, float]:
    return {
        "accuracy": round(float(accuracy_score(y, p)), 4),
        "macro_f1": round(float(f1_score(y, p, average="macro", labels=[-1, 0, 1])), 4),
        "n": len(y),
    }


def evaluate(rows: Sequence[Labelled], *, folds: int = 5, progress: Any = None) -> dict[str, Any]:
    """Every scorer on the same rows: CV and a chronological split. ``progress(step)`` ticks."""
    texts = [r.text for r in rows]
    y = np.asarray([r.label for r in rows])
    report: dict[str, Any] = {
        "rows": len(rows),
        "classes": {LABELS[k]: int((y == k).sum()) for k in (-1, 0, 1)},
    }

    ours = np.zeros_like(y)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, y):
        model = fit([texts[i] for i in train], y[train])
        ours[test] = predict(model, [texts[i] for i in test])
        if progress:
            progress(1)
    majority_cv = np.zeros_like(y)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, y):
        values, counts = np.unique(y[train], return_counts=True)
        majority_cv[test] = values[counts.argmax()]
    cv = {
        "ours (cryptolin-charlr)": metrics(y, ours),
        "vader (live, compound ±0.05)": metrics(y, vader_predict(texts)),
        "majority class": metrics(y, majority_cv),
    }
    for name in RECORDED:
        cv[name] = metrics(y, [r.recorded.get(name, 0) for r in rows])

    order = sorted(range(len(rows)), key=lambda i: (rows[i].date, int(rows[i].id)))
    cut = int(len(order) * 0.8)
    tr, te = order[:cut], order[cut:]
    model = fit([texts[i] for i in tr], y[tr])
    if progress:
        progress(1)
    values, counts = np.unique(y[tr], return_counts=True)
    y_te = y[te]
    chrono = {
        "ours (cryptolin-charlr)": metrics(y_te, predict(model, [texts[i] for i in te])),
        "vader (live, compound ±0.05)": metrics(y_te, vader_predict([texts[i] for i in te])),
        "majority class": metrics(y_te, [int(values[counts.argmax()])] * len(te)),
    }
    for name in RECORDED:
        chrono[name] = metrics(y_te, [rows[i].recorded.get(name, 0) for i in te])
    report["cv"] = {"folds": folds, "results": cv}
    report["chronological"] = {
        "train": f"{rows[tr[0]].date}..{rows[tr[-1]].date} ({len(tr)} rows)",
        "test": f"{rows[te[0]].date}..{rows[te[-1]].date} ({len(te)} rows)",
        "results": chrono,
    }
    return report


def save(model: Model, path: Path, *, meta: dict[str, Any]) -> None:
    doc = {
        "name": model.name,
        "version": model.version,
        "classes": list(CLASSES),
        "vocabulary": model.vocabulary,
        "idf": [round(v, 6) for v in model.idf],
        "coef": [[round(float(v), 6) for v in row] for row in model.coef],
        "intercept": [round(float(v), 6) for v in model.intercept],
        "meta": {**meta, "trained_at": datetime.now(UTC).isoformat(timespec="seconds")},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(doc, fh, separators=(",", ":"), sort_keys=True)
    tmp.replace(path)
