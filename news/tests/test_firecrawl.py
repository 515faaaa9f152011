"""POST news/refresh through Firecrawl (``FIRECRAWL_API_KEY`` set): the user's URL passes the
same SSRF checks before Firecrawl sees it, the scrape goes through ``core.http.post_json``
(size cap, no repeat of a paid call), failures fall back to the built-in fetch with the
reason, and without a key Firecrawl is skipped. Firecrawl bodies are HAND-MADE in the
documented v1 ``/v1/scrape`` shape: no recorded Firecrawl response exists."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from news.clients import crawl, firecrawl

from .test_crawl_ssrf import HTML, PUBLIC, RESOLVE

pytestmark = pytest.mark.django_db

FC = "https://firecrawl.test"
KEY = "fc-test-key-0123456789"
REFRESH = "/api/v1/news/refresh"
URL = "https://news.example.com/story"


def scrape(**overrides):  # type: ignore[no-untyped-def]
    """Hand-made: a successful v1 scrape answer."""
    metadata = {
        "title": "Ether rallies as staking demand grows",
        "author": "Jane Doe",
        "publishedTime": "2026-07-20T08:30:00+02:00",
        "sourceURL": "https://elsewhere.example.net/redirected",
        "statusCode": 200,
    }
    body = {
        "success": True,
        "data": {
            "markdown": "# Ether rallies\n\n**Ethereum** rose 5% as [staking](https://x.test) "
            "demand grew.\n\n![chart](https://img.test/c.png)\n\n- more *validators*",
            "metadata": metadata,
        },
    }
    body["data"]["metadata"].update(overrides.pop("metadata", {}))
    body.update(overrides)
    return body


@pytest.fixture
def keyed(settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.FIRECRAWL_API_KEY = KEY
    settings.FIRECRAWL_API_URL = FC
    monkeypatch.setattr(crawl, "system_resolver", RESOLVE)
    from core import http as core_http

    core_http.reset_providers()
    with respx.mock(assert_all_called=False) as router:
        yield router


def test_a_scrape_is_stored_with_its_provenance(auth_client, keyed, assets):
    route = keyed.post(f"{FC}/v1/scrape").mock(return_value=httpx.Response(200, json=scrape()))
    page = keyed.get(f"https://{PUBLIC}/story")
    response = auth_client.post(REFRESH, {"url": URL}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["crawl"] == {"extractor": "firecrawl", "fallback_reason": ""}
    article = body["article"]
    assert article["url"] == URL  # the URL we checked, not the one Firecrawl reports
    assert article["title"] == "Ether rallies as staking demand grows"
    assert article["published_at"] == "2026-07-20T06:30:00Z"
    assert "ethereum" in article["coins"]
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    sent = json.loads(request.content)
    assert sent["url"] == URL and sent["formats"] == ["markdown"]
    assert not page.called  # Firecrawl fetched it, not us
    assert KEY not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",  # loopback
        "http://[::1]/",
        "http://localhost/",
        "http://10.0.0.8/",  # private
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",  # link-local (cloud metadata)
        "http://[fe80::1]/",
        "http://[::ffff:10.0.0.1]/",  # IPv4-mapped private
        "http://internal.example.com/",  # a public-looking name resolving private
        "http://rebind.example.com/",  # one public and one private answer (rebinding bait)
        "http://mapped.example.com/",
        "file:///etc/passwd",  # not http(s)
        "ftp://news.example.com/",
        "gopher://news.example.com/",
        "javascript:alert(1)",
    ],
)
def test_hostile_urls_never_reach_firecrawl(auth_client, keyed, url):
    route = keyed.post(f"{FC}/v1/scrape").mock(return_value=httpx.Response(200, json=scrape()))
    response = auth_client.post(REFRESH, {"url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "url"
    assert not route.called and not keyed.calls


def test_without_a_key_firecrawl_is_skipped_for_the_built_in_fetch(auth_client, keyed, settings):
    settings.FIRECRAWL_API_KEY = ""
    route = keyed.post(f"{FC}/v1/scrape").mock(return_value=httpx.Response(200, json=scrape()))
    keyed.get(f"https://{PUBLIC}/story").mock(
        return_value=httpx.Response(200, content=HTML, headers={"Content-Type": "text/html"})
    )
    response = auth_client.post(REFRESH, {"url": URL}, format="json")
    assert response.status_code == 201
    assert response.json()["crawl"] == {"extractor": "trafilatura", "fallback_reason": ""}
    assert not route.called


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(402, json={"error": "Payment required"}), "402 client error"),
        (httpx.Response(401, json={"error": "Unauthorized"}), "401 unauthorized"),
        (httpx.Response(500), "500 server error"),
        (httpx.Response(200, json={"success": False, "error": "blocked"}), "could not scrape"),
        (httpx.Response(200, json=scrape(metadata={"statusCode": 404})), "answered 404"),
        (httpx.Response(200, content=b"<html>gateway</html>"), "HTML instead of JSON"),
        (httpx.Response(200, content=b'{"success": true, "data": ' + b"x" * 3000), "larger"),
    ],
)
def test_firecrawl_failures_fall_back_to_the_built_in_fetch_with_the_reason(
    auth_client, keyed, settings, answer, reason
):
    settings.NEWS_CRAWL_MAX_BYTES = 2500
    route = keyed.post(f"{FC}/v1/scrape").mock(return_value=answer)
    keyed.get(f"https://{PUBLIC}/story").mock(
        return_value=httpx.Response(200, content=HTML, headers={"Content-Type": "text/html"})
    )
    response = auth_client.post(REFRESH, {"url": URL}, format="json")
    assert response.status_code == 201, response.content
    crawl_info = response.json()["crawl"]
    assert crawl_info["extractor"] == "trafilatura"
    assert crawl_info["fallback_reason"].startswith("firecrawl: ")
    assert reason in crawl_info["fallback_reason"]
    assert route.call_count == 1  # a paid scrape is never repeated after it may have run


def test_a_429_is_retried_once_since_nothing_ran(keyed):
    route = keyed.post(f"{FC}/v1/scrape").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, json=scrape()),
        ]
    )
    page = firecrawl.firecrawl_scrape(url=URL)
    assert page.extractor == "firecrawl" and route.call_count == 2


def test_the_key_is_read_per_call_and_never_kept_in_the_client(keyed, settings):
    route = keyed.post(f"{FC}/v1/scrape").mock(return_value=httpx.Response(200, json=scrape()))
    firecrawl.firecrawl_scrape(url=URL)
    settings.FIRECRAWL_API_KEY = "fc-rotated-key"
    firecrawl.firecrawl_scrape(url=URL)
    assert route.calls[-1].request.headers["Authorization"] == "Bearer fc-rotated-key"
    from core.http import provider_http

    assert "Authorization" not in provider_http(firecrawl.PROVIDER).client.headers


def test_both_paths_failing_is_reported(auth_client, keyed):
    keyed.post(f"{FC}/v1/scrape").mock(return_value=httpx.Response(500))
    keyed.get(f"https://{PUBLIC}/story").mock(
        return_value=httpx.Response(
            200, content=b"%PDF", headers={"Content-Type": "application/pdf"}
        )
    )
    response = auth_client.post(REFRESH, {"url": URL}, format="json")
    assert response.status_code == 400
    assert "content type" in response.json()["errors"][0]["detail"]


def test_parse_scrape_turns_markdown_into_plain_text():
    page = firecrawl.parse_scrape(scrape(), url=URL)
    assert page.text == "Ether rallies Ethereum rose 5% as staking demand grew. more validators"
    assert "https://" not in page.text and "**" not in page.text and "chart" not in page.text
    assert page.author == "Jane Doe" and page.url == URL
    assert page.published_at is not None and page.published_at.utcoffset().total_seconds() == 0
    unsafe = scrape()
    unsafe["data"]["markdown"] = "<script>alert(1)</script>Real text"
    assert "<script>" not in firecrawl.parse_scrape(unsafe, url=URL).text
    with pytest.raises(ValueError, match="not a Firecrawl scrape"):
        firecrawl.parse_scrape({"data": []}, url=URL)
    empty = scrape(metadata={"title": ""})
    empty["data"]["markdown"] = ""
    with pytest.raises(ValueError, match="no readable"):
        firecrawl.parse_scrape(empty, url=URL)
