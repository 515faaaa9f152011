"""Load the recorded feeds (``CRYPTOCAST_SAMPLE_DATA/news``) so an offline install has news."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from ..models import Source
from ..parsers.gdelt import parse_artlist
from ..parsers.rss import parse_feed
from .sources import feed_store, sources_seed

# file name prefix -> source slug
RECORDED = {
    "coindesk_": "coindesk",
    "cointelegraph_": "cointelegraph",
    "decrypt_": "decrypt",
    "theblock_": "theblock",
}


@dataclass(frozen=True)
class SampleFile:
    path: str
    source: str
    stored: int
    duplicates: int


def news_samples_load(*, data_dir: Path, include_gdelt: bool = False) -> list[SampleFile]:
    """Ingest every recorded RSS file (idempotent: a second run stores nothing).

    The recorded GDELT file is a climate query (not crypto news), so it is skipped unless asked.
    """
    sources_seed()
    out: list[SampleFile] = []
    rss_dir = data_dir / "news" / "rss"
    for path in sorted(rss_dir.glob("*.xml")) if rss_dir.is_dir() else []:
        slug = next((s for p, s in RECORDED.items() if path.name.startswith(p)), None)
        if slug is None:
            continue
        source = Source.objects.get(slug=slug)
        result = feed_store(
            source=source, feed=parse_feed(path.read_bytes()), started=timezone.now()
        )
        out.append(SampleFile(str(path), slug, result.stored, result.duplicates))
    gdelt = data_dir / "news" / "gdelt"
    if include_gdelt and gdelt.is_dir():
        source = Source.objects.get(slug="gdelt")
        for path in sorted(gdelt.glob("*.json")):
            result = feed_store(
                source=source, feed=parse_artlist(path.read_bytes()), started=timezone.now()
            )
            out.append(SampleFile(str(path), "gdelt", result.stored, result.duplicates))
    return out
