"""Request batching for the live price reads that miss the cache (seed 002).

Many ``/prices?ids=...`` misses for different coins within a short window coalesce into one
store read (``selectors.latest_quotes(ids=[...])``), and a key already being fetched is never
fetched twice at once (single-flight): the first request opens a batch, waits
``PRICES_BATCH_WINDOW_MS`` for others to join, then fetches every key of the batch in one call;
everybody waiting on one of those keys gets the result of that call.

The figures (requests vs fetch calls) are this process's since start, reported at
``GET /api/v1/rate-limit/batching/stats`` and in Prometheus.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.conf import settings
from prometheus_client import Counter

from . import selectors

V = TypeVar("V")

_REQUESTS = Counter(
    "cryptocast_batch_requests_total", "Lookups asked of a request batcher", ["batcher"]
)
_KEYS = Counter("cryptocast_batch_keys_total", "Keys asked of a request batcher", ["batcher"])
_CALLS = Counter(
    "cryptocast_batch_fetch_calls_total", "Fetch calls a request batcher made", ["batcher"]
)


class _Batch(Generic[V]):
    __slots__ = ("done", "error", "keys", "result")

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.done = threading.Event()
        self.result: dict[str, V] = {}
        self.error: BaseException | None = None


class Batcher(Generic[V]):
    def __init__(
        self,
        name: str,
        fetch: Callable[[list[str]], dict[str, V]],
        *,
        window: Callable[[], float],
        max_batch: int = 250,
        wait_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self._fetch = fetch
        self._window = window
        self.max_batch = max_batch
        self.wait_timeout = wait_timeout
        self._lock = threading.Lock()
        self._pending: _Batch[V] | None = None
        self._inflight: dict[str, _Batch[V]] = {}
        self.reset_stats()

    def reset_stats(self) -> None:
        self.requests = 0
        self.keys_requested = 0
        self.fetch_calls = 0
        self.keys_fetched = 0
        self.shared_keys = 0  # keys answered by another request's fetch
        self.started_at = time.time()

    def get_many(self, keys: Sequence[str]) -> dict[str, V]:
        wanted = list(dict.fromkeys(keys))
        batches: list[_Batch[V]] = []
        lead: _Batch[V] | None = None
        with self._lock:
            self.requests += 1
            self.keys_requested += len(wanted)
            for key in wanted:
                joined = self._inflight.get(key)
                if joined is None and self._pending is not None and key in self._pending.keys:
                    joined = self._pending
                if joined is not None:
                    self.shared_keys += 1
                else:
                    if self._pending is None or len(self._pending.keys) >= self.max_batch:
                        self._pending = _Batch()
                        lead = lead or self._pending
                    joined = self._pending
                    joined.keys.add(key)
                if joined not in batches:
                    batches.append(joined)
        _REQUESTS.labels(self.name).inc()
        _KEYS.labels(self.name).inc(len(wanted))
        if lead is not None:
            self._run(lead)
        out: dict[str, V] = {}
        for batch in batches:
            if not batch.done.wait(self.wait_timeout):
                raise TimeoutError(f"{self.name}: batch fetch took over {self.wait_timeout} s")
            if batch.error is not None:
                raise batch.error
            out.update({k: v for k, v in batch.result.items() if k in wanted})
        return out

    def _run(self, batch: _Batch[V]) -> None:
        window = self._window()
        if window > 0:
            time.sleep(window)  # let concurrent misses join this batch
        with self._lock:
            if self._pending is batch:
                self._pending = None
            keys = sorted(batch.keys)
            for key in keys:
                self._inflight[key] = batch
            self.fetch_calls += 1
            self.keys_fetched += len(keys)
        _CALLS.labels(self.name).inc()
        try:
            batch.result = self._fetch(keys)
        except BaseException as exc:  # handed to every waiter
            batch.error = exc
        finally:
            with self._lock:
                for key in keys:
                    if self._inflight.get(key) is batch:
                        del self._inflight[key]
            batch.done.set()

    def stats(self) -> dict[str, Any]:
        return {
            "batcher": self.name,
            "window_ms": round(self._window() * 1000, 3),
            "requests": self.requests,
            "keys_requested": self.keys_requested,
            "fetch_calls": self.fetch_calls,
            "keys_fetched": self.keys_fetched,
            "shared_keys": self.shared_keys,
            "requests_per_fetch": (
                round(self.requests / self.fetch_calls, 3) if self.fetch_calls else None
            ),
            "since": self.started_at,
        }


def _fetch_latest_quotes(ids: list[str]) -> dict[str, Any]:
    return {q.asset.pk: q for q in selectors.latest_quotes(ids=ids)}


_quotes_batcher: Batcher[Any] | None = None
_init_lock = threading.Lock()


def quotes_batcher() -> Batcher[Any]:
    global _quotes_batcher
    with _init_lock:
        if _quotes_batcher is None:
            _quotes_batcher = Batcher(
                "latest_quotes",
                _fetch_latest_quotes,
                window=lambda: settings.PRICES_BATCH_WINDOW_MS / 1000.0,
            )
        return _quotes_batcher


def latest_quotes(*, ids: Sequence[str]) -> list[Any]:
    """``selectors.latest_quotes(ids=...)`` through the batcher, in the selector's order."""
    found = quotes_batcher().get_many(ids)
    quotes = [found[i] for i in dict.fromkeys(ids) if i in found]
    quotes.sort(key=lambda q: (q.asset.rank is None, q.asset.rank or 0, q.asset.pk))
    return quotes


def batching_stats() -> list[dict[str, Any]]:
    return [quotes_batcher().stats()]
