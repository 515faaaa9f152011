"""CoinCap API v3 (``rest.coincap.io/v3``): ``/assets``. v3 requires an API key: without
``COINCAP_API_KEY`` the provider is skipped cleanly (no request, reason recorded)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field

from core.http import ProviderError
from markets.contracts import AssetData, QuoteData

from .config import http
from .known_assets import by_field, enrich
from .parsing import TextAmount, TextPercent, TextPrice, utc_from_ms

SOURCE = "coincap"
NO_KEY_REASON = "skipped: COINCAP_API_KEY not set"


class _Asset(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    rank: int | None = None
    symbol: str = Field(min_length=1)
    name: str = Field(min_length=1)
    priceUsd: TextPrice
    marketCapUsd: TextAmount | None = None
    volumeUsd24Hr: TextAmount | None = None
    changePercent24Hr: TextPercent | None = None


class _Assets(BaseModel):
    data: list[_Asset]
    timestamp: int


def configured() -> bool:
    return bool(settings.COINCAP_API_KEY)


def assets(*, assets: Sequence[AssetData] | None = None, limit: int = 50) -> list[QuoteData]:
    """Quotes of the given assets (by CoinCap id), or the top ``limit`` by rank."""
    if not configured():
        raise ProviderError(SOURCE, NO_KEY_REASON, counts=False)
    known = by_field(assets or (), "coincap_id")
    params: dict[str, Any] = {"limit": max(1, min(limit, 2000))}
    if assets is not None:
        if not known:
            return []
        params["ids"] = ",".join(sorted(known))

    def parse(data: Any) -> list[QuoteData]:
        body = _Assets.model_validate(data)
        as_of = utc_from_ms(body.timestamp)
        fetched = datetime.now(UTC)
        out = []
        for row in body.data:
            asset = known.get(row.id) or enrich(
                AssetData(
                    slug=row.id,
                    symbol=row.symbol.upper(),
                    name=row.name,
                    rank=row.rank,
                    coincap_id=row.id,
                )
            )
            out.append(
                QuoteData(
                    asset=asset,
                    price=row.priceUsd,
                    source=SOURCE,
                    as_of=as_of,
                    fetched_at=fetched,
                    market_cap=row.marketCapUsd,
                    volume_24h=row.volumeUsd24Hr,
                    change_24h=row.changePercent24Hr,
                )
            )
        return out

    return http(SOURCE).get_json("/assets", params=params, parse=parse)
