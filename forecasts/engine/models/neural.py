"""Keras models: ``lstm``, ``tcn``, ``transformer``, ``dlinear`` (small, few epochs, seeded).

Input: the last ``lookback`` days of a compact causal feature set (RobustScaler-scaled), plus a
position channel (so the transformer needs no custom layer). Output: one scaled log-return per
horizon (direct multi-horizon). TensorFlow is imported lazily inside ``fit``/``save`` only.

Artifacts: ``model.onnx`` (exported at save time, used for every prediction after ``load``,
through onnxruntime), ``model.keras`` (kept for retraining; built-in layers only, so it loads in
safe mode), ``feature_scaler.json`` / ``target_scaler.json`` (RobustScaler parameters) and
``feature_names.json``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..features import build_features
from ..forecaster import (
    ArtifactSpec,
    EngineError,
    Forecaster,
    log_return_targets,
    read_json,
    write_json,
)
from ..scalers import RobustScalerParams
from .gbm import FEATURE_TAIL

SEQUENCE_FEATURES = [
    "ret_1",
    "range_hl",
    "body_co",
    "gap_oc",
    "volume_change_1",
    "volume_z_30",
    "vol_7",
    "vol_30",
    "rsi_14",
    "close_sma_30",
]
WARMUP = 90  # rows dropped before the first training sample (vol_30, volume_z_30, ...)


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # deferred: TensorFlow is imported only by training workers (serving runs ONNX)
    import keras
    import tensorflow as tf  # (deferred, as above)

    try:
        tf.config.threading.set_inter_op_parallelism_threads(2)
        tf.config.threading.set_intra_op_parallelism_threads(2)
    except RuntimeError:  # already initialised in this process
        pass
    return keras


def _seq_matrix(history: pd.DataFrame) -> pd.DataFrame:
    feats = build_features(history)[SEQUENCE_FEATURES]
    return feats.ffill().fillna(0.0)


def _windows(values: np.ndarray, lookback: int, ends: np.ndarray) -> np.ndarray:
    """Windows ``values[e-lookback+1 : e+1]`` for each end index, plus a position channel."""
    idx = ends[:, None] + np.arange(-lookback + 1, 1)[None, :]
    x = values[idx]
    pos = np.broadcast_to(np.linspace(-1.0, 0.0, lookback)[None, :, None], (len(ends), lookback, 1))
    return np.concatenate([x, pos], axis=2).astype(np.float32)


class KerasForecaster(Forecaster):
    """Shared training/serving logic; subclasses only build the network."""

    min_history = WARMUP + 120

    def __init__(
        self,
        lookback: int = 32,
        epochs: int = 12,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        seed: int = 7,
        max_train: int = 1500,
        **params: Any,
    ) -> None:
        super().__init__(
            lookback=int(lookback),
            epochs=int(epochs),
            batch_size=int(batch_size),
            learning_rate=float(learning_rate),
            seed=int(seed),
            max_train=int(max_train),
            **params,
        )
        self.keras_model: Any = None
        self.session: Any = None  # onnxruntime session after load()
        self.feature_scaler: RobustScalerParams | None = None
        self.target_scaler: RobustScalerParams | None = None

    # -- network ----------------------------------------------------------------------------
    def build(self, keras: Any, lookback: int, channels: int, outputs: int) -> Any:
        raise NotImplementedError

    # -- contract ---------------------------------------------------------------------------
    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> KerasForecaster:
        history = self._start_fit(history, horizons)
        keras = _keras()
        lookback = self.params["lookback"]
        seq = _seq_matrix(history)
        targets = log_return_targets(history["close"], self.horizons).to_numpy()
        first = max(WARMUP, lookback - 1)
        if self.params["max_train"]:
            first = max(first, len(history) - self.params["max_train"] - max(self.horizons))
        ends = np.arange(first, len(history))
        ends = ends[~np.isnan(targets[ends]).any(axis=1)]
        if len(ends) < 50:
            raise EngineError(f"{self.name}: too few training windows ({len(ends)})")
        self.feature_scaler = RobustScalerParams.fit(seq.to_numpy()[ends])
        self.feature_scaler.scale[self.feature_scaler.scale == 0] = 1.0
        values = np.clip(self.feature_scaler.transform(seq.to_numpy()), -10, 10)
        y = targets[ends]
        self.target_scaler = RobustScalerParams.fit(y)
        self.target_scaler.scale[self.target_scaler.scale == 0] = 1.0
        ys = np.clip(self.target_scaler.transform(y), -8, 8).astype(np.float32)
        x = _windows(values, lookback, ends)

        keras.utils.set_random_seed(self.params["seed"])
        model = self.build(keras, lookback, x.shape[2], len(self.horizons))
        model.compile(
            optimizer=keras.optimizers.Adam(self.params["learning_rate"]),
            loss=keras.losses.Huber(delta=1.0),
        )
        n_val = max(1, len(x) // 10)
        callbacks = [
            keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True, monitor="val_loss")
        ]
        model.fit(
            x[:-n_val],
            ys[:-n_val],
            validation_data=(x[-n_val:], ys[-n_val:]),
            epochs=self.params["epochs"],
            batch_size=self.params["batch_size"],
            shuffle=True,
            verbose=0,
            callbacks=callbacks,
        )
        self.keras_model = model
        self.session = None
        return self

    def _inputs(self, history: pd.DataFrame, origins: Sequence[pd.Timestamp]) -> np.ndarray:
        assert self.feature_scaler is not None
        lookback = self.params["lookback"]
        first = history.index.get_loc(origins[0])
        tail = history.iloc[max(0, first - FEATURE_TAIL) :]
        seq = _seq_matrix(tail)
        values = np.clip(self.feature_scaler.transform(seq.to_numpy()), -10, 10)
        ends = np.asarray([tail.index.get_loc(o) for o in origins])
        if ends.min() < lookback - 1:
            raise EngineError(f"{self.name}: history shorter than lookback ({lookback})")
        return _windows(values, lookback, ends)

    def _run(self, x: np.ndarray) -> np.ndarray:
        if self.session is not None:
            name = self.session.get_inputs()[0].name
            out = self.session.run(None, {name: x})[0]
        elif self.keras_model is not None:
            out = np.asarray(self.keras_model(x, training=False))
        else:
            raise EngineError(f"{self.name}: call fit() or load() before predict()")
        assert self.target_scaler is not None
        return self.target_scaler.inverse_transform(out)

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        self._check_fitted()
        out = self._run(self._inputs(history, [history.index[-1]]))[0]
        return {h: float(out[i]) for i, h in enumerate(self.horizons)}

    def predict_path(
        self, history: pd.DataFrame, origins: Sequence[pd.Timestamp]
    ) -> dict[pd.Timestamp, dict[int, float]]:
        self._check_fitted()
        if not len(origins):
            return {}
        out = self._run(self._inputs(history, list(origins)))
        return {
            o: {h: float(out[i, j]) for j, h in enumerate(self.horizons)}
            for i, o in enumerate(origins)
        }

    def save(self, directory: Path) -> ArtifactSpec:
        if self.keras_model is None:
            raise EngineError(f"{self.name}: only a model trained in this process can be saved")
        assert self.feature_scaler is not None and self.target_scaler is not None
        _keras()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.keras_model.save(directory / "model.keras")
        self.keras_model.export(str(directory / "model.onnx"), format="onnx", verbose=False)
        self.feature_scaler.save(directory / "feature_scaler.json")
        self.target_scaler.save(directory / "target_scaler.json")
        write_json(directory / "feature_names.json", SEQUENCE_FEATURES)
        scalers = {"feature_scaler": "feature_scaler.json", "target_scaler": "target_scaler.json"}
        return self._spec(
            "onnx",
            files={
                "onnx": "model.onnx",
                "keras": "model.keras",
                "feature_names": "feature_names.json",
                **scalers,
            },
            feature_names=list(SEQUENCE_FEATURES),
            scaler_files=scalers,
            params={**self.params, "input": "window of lookback days x (features + position)"},
        )

    @classmethod
    def load(cls, directory: Path, spec: ArtifactSpec) -> KerasForecaster:
        """Load the ONNX graph into onnxruntime; TensorFlow is never imported here."""
        # deferred: onnxruntime only in processes that load a neural net
        import onnxruntime as ort

        directory = Path(directory)
        params = {k: v for k, v in spec.params.items() if k != "input"}
        model = cls(**params)
        model.horizons = list(spec.horizons)
        model.training_window = dict(spec.training_window)
        names = read_json(directory / spec.files["feature_names"])
        if list(names) != SEQUENCE_FEATURES:
            raise EngineError(f"{cls.name}: artifact feature names do not match this code")
        model.feature_scaler = RobustScalerParams.load(directory / spec.files["feature_scaler"])
        model.target_scaler = RobustScalerParams.load(directory / spec.files["target_scaler"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        model.session = ort.InferenceSession(
            str(directory / spec.files["onnx"]), options, providers=["CPUExecutionProvider"]
        )
        return model


class LSTMForecaster(KerasForecaster):
    name = "lstm"

    def build(self, keras: Any, lookback: int, channels: int, outputs: int) -> Any:
        layers = keras.layers
        inp = keras.Input((lookback, channels))
        x = layers.LSTM(32)(inp)
        x = layers.Dropout(0.1)(x)
        x = layers.Dense(16, activation="relu")(x)
        return keras.Model(inp, layers.Dense(outputs)(x), name="lstm")


class TCNForecaster(KerasForecaster):
    """Temporal convolutional network: causal dilated convolutions with residual blocks."""

    name = "tcn"

    def build(self, keras: Any, lookback: int, channels: int, outputs: int) -> Any:
        layers = keras.layers
        inp = keras.Input((lookback, channels))
        x = layers.Conv1D(16, 1)(inp)
        for dilation in (1, 2, 4, 8):
            y = layers.Conv1D(16, 3, padding="causal", dilation_rate=dilation, activation="relu")(x)
            y = layers.Dropout(0.1)(y)
            x = layers.Add()([x, y])
        x = layers.Cropping1D((lookback - 1, 0))(x)
        x = layers.Flatten()(x)
        return keras.Model(inp, layers.Dense(outputs)(x), name="tcn")


class TransformerForecaster(KerasForecaster):
    """One encoder block (2-head self-attention + feed-forward), mean-pooled over time."""

    name = "transformer"

    def build(self, keras: Any, lookback: int, channels: int, outputs: int) -> Any:
        layers = keras.layers
        inp = keras.Input((lookback, channels))
        x = layers.Dense(16)(inp)
        attn = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(x, x)
        x = layers.LayerNormalization()(layers.Add()([x, attn]))
        ff = layers.Dense(32, activation="relu")(x)
        ff = layers.Dense(16)(ff)
        x = layers.LayerNormalization()(layers.Add()([x, ff]))
        x = layers.GlobalAveragePooling1D()(x)
        return keras.Model(inp, layers.Dense(outputs)(x), name="transformer")


class DLinearForecaster(KerasForecaster):
    """DLinear: moving-average trend + remainder, each mapped linearly over time (Zeng 2023)."""

    name = "dlinear"

    def build(self, keras: Any, lookback: int, channels: int, outputs: int) -> Any:
        layers = keras.layers
        inp = keras.Input((lookback, channels))
        trend = layers.AveragePooling1D(pool_size=7, strides=1, padding="same")(inp)
        seasonal = layers.Subtract()([inp, trend])
        t = layers.Dense(outputs)(layers.Flatten()(trend))
        s = layers.Dense(outputs)(layers.Flatten()(seasonal))
        return keras.Model(inp, layers.Add()([t, s]), name="dlinear")
