"""Single-request latency of the same small LSTM through ONNX Runtime vs Keras.

Run: ``.venv/bin/python bench/onnx_vs_keras.py``. Trains the engine's ``lstm`` for one epoch
on synthetic data, saves it (``.keras`` + ``.onnx``), then times one-window predictions side
by side in one run: ``model.predict(x)``, a direct ``model(x)`` call, and an onnxruntime
session. Also reports the peak RSS of a fresh process that serves through onnxruntime only
(what a web worker pays) vs one that imports TensorFlow and loads the ``.keras`` model.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def synthetic(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(0.02 * rng.standard_normal(n)))
    idx = pd.date_range("2022-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": 1000 + rng.random(n),
        },
        index=idx,
    )


def timeit(fn, repeats: int) -> list[float]:
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def peak_rss_mb(code: str) -> float:
    # VmHWM, not ru_maxrss: ru_maxrss survives exec and would report this (TF-laden) parent
    probe = code + (
        "\nprint([int(line.split()[1]) for line in open('/proc/self/status')"
        " if line.startswith('VmHWM')][0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    from forecasts.engine import get_forecaster, load_forecaster, save_forecaster

    history = synthetic()
    model = get_forecaster("lstm", epochs=1, max_train=400).fit(history, [1, 7])
    folder = Path(tempfile.mkdtemp()) / "lstm"
    save_forecaster(model, folder)
    served = load_forecaster(folder)  # onnxruntime session
    x = served._inputs(history, [history.index[-1]])  # one request = one window
    keras_model = model.keras_model
    session = served.session
    name = session.get_inputs()[0].name

    onnx = timeit(lambda: session.run(None, {name: x}), 500)
    call = timeit(lambda: keras_model(x, training=False), 100)
    pred = timeit(lambda: keras_model.predict(x, verbose=0), 50)
    diff = float(np.abs(session.run(None, {name: x})[0] - keras_model(x).numpy()).max())

    def p(ms: list[float]) -> str:
        return f"median {statistics.median(ms):8.3f} ms   p95 {np.percentile(ms, 95):8.3f} ms"

    print(f"input window {x.shape}, max |onnx - keras| = {diff:.2e}")
    print(f"onnxruntime session.run : {p(onnx)}")
    print(f"keras model(x)          : {p(call)}")
    print(f"keras model.predict(x)  : {p(pred)}")
    print(f"ratio predict() / onnx  : {statistics.median(pred) / statistics.median(onnx):8.1f}x")
    print(f"ratio model(x) / onnx   : {statistics.median(call) / statistics.median(onnx):8.1f}x")

    rss_onnx = peak_rss_mb(
        textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from forecasts.engine import load_forecaster
        load_forecaster(Path({str(folder)!r}))
        assert "tensorflow" not in sys.modules
    """)
    )
    rss_keras = peak_rss_mb(
        textwrap.dedent(f"""
        import os; os.environ["KERAS_BACKEND"] = "tensorflow"
        import keras
        keras.saving.load_model({str(folder / "model.keras")!r}, safe_mode=True)
    """)
    )
    print(
        f"peak RSS, serving process: onnxruntime {rss_onnx:.0f} MB vs TensorFlow/Keras "
        f"{rss_keras:.0f} MB ({rss_keras / rss_onnx:.1f}x)"
    )
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
