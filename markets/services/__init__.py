"""Writes of `markets` (every one keyword-only, typed, transactional).

Split by sub-domain: ``assets``, ``quotes`` (store, sync, cleanup), ``candles`` (upsert,
backfill), ``imports`` (CSV validate-then-write), ``sample_data``, ``jobs`` (ETL runs).
Other apps import from here.
"""

from .assets import KNOWN_ASSETS, AssetsUpsertResult, assets_upsert, known_asset_register
from .candles import (
    BackfillResult,
    InvalidCandle,
    candle_problems,
    candles_backfill,
    candles_replay_fill,
    candles_upsert,
    candles_upsert_many,
)
from .imports import (
    FileReport,
    ImportInputError,
    ImportReport,
    import_ohlcv_path,
    import_upload,
    validate_csv,
)
from .jobs import (
    job_run,
    job_runs_cleanup,
    periodic_job_run_now,
    periodic_job_set_enabled,
    sync_enqueue,
    task_enqueue,
)
from .quotes import (
    QuotesStoreResult,
    markets_sync,
    quotes_cleanup,
    quotes_listener_register,
    quotes_store,
)
from .sample_data import SampleLoadResult, load_sample_data, seed_quotes_from_candles

__all__ = [
    "KNOWN_ASSETS",
    "AssetsUpsertResult",
    "BackfillResult",
    "FileReport",
    "ImportInputError",
    "ImportReport",
    "InvalidCandle",
    "QuotesStoreResult",
    "SampleLoadResult",
    "assets_upsert",
    "candle_problems",
    "candles_backfill",
    "candles_replay_fill",
    "candles_upsert",
    "candles_upsert_many",
    "import_ohlcv_path",
    "import_upload",
    "job_run",
    "job_runs_cleanup",
    "known_asset_register",
    "load_sample_data",
    "markets_sync",
    "periodic_job_run_now",
    "periodic_job_set_enabled",
    "quotes_cleanup",
    "quotes_listener_register",
    "quotes_store",
    "seed_quotes_from_candles",
    "sync_enqueue",
    "task_enqueue",
    "validate_csv",
]
