"""gzip for large JSON and static responses; never for streams."""

from __future__ import annotations

import gzip
import json

import pytest
from django.http import HttpResponse, StreamingHttpResponse

from markets.tests.data_helpers import make_asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_assets():
    for i in range(60):
        make_asset(f"coin-{i:03d}", f"C{i:03d}", rank=i + 1)


def test_a_large_listing_is_gzipped_and_decodes_to_the_same_json(client, many_assets):
    plain = client.get("/api/v1/cryptocurrencies/?page_size=60")
    zipped = client.get("/api/v1/cryptocurrencies/?page_size=60", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    assert len(zipped.content) < len(plain.content) / 3


def test_a_small_response_is_left_alone(client):
    response = client.get("/health", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in response


def test_static_files_are_gzipped(client):
    response = client.get("/static/js/dashboard.js", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"


def _through_middleware(rf, path, response):
    from core.middleware import CompressionMiddleware

    request = rf.get(path, HTTP_ACCEPT_ENCODING="gzip")
    return CompressionMiddleware(lambda r: response)(request)


def test_server_sent_events_are_never_compressed(rf):
    stream = StreamingHttpResponse(iter([b"data: x\n\n"] * 500), content_type="text/event-stream")
    response = _through_middleware(rf, "/api/v1/anything", stream)
    assert "Content-Encoding" not in response


def test_nothing_under_the_stream_prefix_is_compressed(rf):
    big = HttpResponse(b"{" + b'"a":1,' * 1000 + b"}", content_type="application/json")
    response = _through_middleware(rf, "/api/v1/stream/snapshot", big)
    assert "Content-Encoding" not in response


def test_compression_can_be_switched_off(client, settings, many_assets):
    settings.HTTP_GZIP = False
    response = client.get("/api/v1/cryptocurrencies/?page_size=60", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in response


async def test_an_async_stream_is_one_gzip_member_a_browser_decodes_whole(rf):
    # ServeStatic answers static files under ASGI with an async stream of 8 KiB chunks;
    # Django's own GZipMiddleware makes each chunk a gzip member of its own, and browsers
    # decode only the first (a script cut at 8 KiB). Hand-made chunks here.
    import zlib

    chunks = [bytes([65 + i]) * 8192 for i in range(3)]

    async def body():
        for chunk in chunks:
            yield chunk

    stream = StreamingHttpResponse(body(), content_type="text/javascript")
    response = _through_middleware(rf, "/static/js/big.js", stream)
    assert response["Content-Encoding"] == "gzip"
    raw = b"".join([part async for part in response.streaming_content])
    one_member = zlib.decompressobj(wbits=31)
    assert one_member.decompress(raw) == b"".join(chunks)
    assert one_member.eof and one_member.unused_data == b""
