"""Writes of `markets` (every one keyword-only, typed, transactional).

Split by sub-domain: ``assets``, ``quotes`` (store, sync, cleanup), ``candles`` (upsert,
backfill), ``imports`` (CSV validate-then-write), ``sample_data``, ``overview`` (whole-market
figures). Other apps import from here. Job runs and enqueueing are core's
(``core.services.job_run``, ``core.enqueue.task_send_on_commit``).
"""

from .assets import KNOWN_ASSETS, AssetsUpsertResult, assets_upsert, known_asset_register
from .candles import (
    BackfillResult,
    InvalidCandle,
    candle_problems,
    candles_backfill,
    candles_replay_fill,
    candles_sync_recent,
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
from .overview import (
    market_global,
    market_overview_refresh,
    market_overview_refresh_enqueue,
    market_overview_snapshot,
    market_trending,
)
from .quotes import (
    QuotesStoreResult,
    markets_sync,
    quotes_cleanup,
    quotes_listener_register,
    quotes_store,
    sync_enqueue,
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
    "candles_sync_recent",
    "candles_upsert",
    "candles_upsert_many",
    "import_ohlcv_path",
    "import_upload",
    "known_asset_register",
    "load_sample_data",
    "market_global",
    "market_overview_refresh",
    "market_overview_refresh_enqueue",
    "market_overview_snapshot",
    "market_trending",
    "markets_sync",
    "quotes_cleanup",
    "quotes_listener_register",
    "quotes_store",
    "seed_quotes_from_candles",
    "sync_enqueue",
    "validate_csv",
]
