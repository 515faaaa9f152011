"""POST news/refresh: the SSRF checks (hostile inputs refused with a 400) and a safe crawl."""

from __future__ import annotations

import httpx
import pytest
import respx

from news.clients import crawl

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"
HTML = (  # hand-made article page
    b"<html><head><title>Bitcoin climbs as ETF inflows return</title></head><body>"
    b"<article><h1>Bitcoin climbs as ETF inflows return</h1>"
    + b"<p>Bitcoin rose on Tuesday as spot ETF inflows returned after a week of outflows. " * 5
    + b"</p></article></body></html>"
)


def fake_resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise crawl.UnsafeUrl(f"host {host!r} does not resolve")
        return table[host]

    return resolve


RESOLVE = fake_resolver(
    {
        "news.example.com": [PUBLIC],
        "rebind.example.com": [PUBLIC, "10.0.0.5"],  # one private answer is enough to refuse
        "internal.example.com": ["192.168.1.10"],
        "v6-loop.example.com": ["::1"],
        "mapped.example.com": ["::ffff:127.0.0.1"],
        "meta.example.com": ["169.254.169.254"],
    }
)

HOSTILE = [
    "http://127.0.0.1/",
    "http://localhost/admin",
    "http://LOCALHOST./",
    "http://foo.localhost/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://0x7f000001/",
    "http://127.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/",  # mapped 169.254.169.254
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",  # shared address space
    "http://0.0.0.0/",
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://internal.example.com/",
    "http://rebind.example.com/",
    "http://v6-loop.example.com/",
    "http://mapped.example.com/",
    "http://meta.example.com/",
    "http://metadata.google.internal/",
    "http://printer.local/",
    "file:///etc/passwd",
    "gopher://news.example.com/",
    "ftp://news.example.com/",
    "javascript:alert(1)",
    "http://user:pass@news.example.com/",
    "http://news.example.com@127.0.0.1/",
    "http://news.example.com:22/",
    "http://news.example.com:99999/",
    "http:///nohost",
    "http://news.example.com\\@127.0.0.1/",
    "http://news.example.com/\r\nHost: evil",
    "http://does-not-resolve.example.com/",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_refused_before_any_request(url):
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(crawl.UnsafeUrl):
            crawl.check_url(url, resolver=RESOLVE)
        assert not router.calls


@pytest.mark.parametrize("url", HOSTILE)
def test_the_refresh_endpoint_answers_400_naming_url(auth_client, monkeypatch, url):
    monkeypatch.setattr(crawl, "system_resolver", RESOLVE)
    with respx.mock(assert_all_called=False) as router:
        r = auth_client.post("/api/v1/news/refresh", {"url": url}, format="json")
        assert not router.calls
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == "url"
    assert body["errors"][0]["detail"]


def test_refresh_needs_a_signed_in_user(api_client):
    r = api_client.post(
        "/api/v1/news/refresh", {"url": "https://news.example.com/a"}, format="json"
    )
    assert r.status_code == 401
    assert r.json()["type"] == "client_error"


def test_a_missing_url_is_a_400_naming_the_field(auth_client):
    r = auth_client.post("/api/v1/news/refresh", {}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == "url"


@respx.mock
def test_the_connection_is_pinned_to_the_checked_address(auth_client, monkeypatch, assets):
    monkeypatch.setattr(crawl, "system_resolver", RESOLVE)
    route = respx.get(f"https://{PUBLIC}/story", params={"id": "1"}).mock(
        return_value=httpx.Response(200, content=HTML, headers={"Content-Type": "text/html"})
    )
    r = auth_client.post(
        "/api/v1/news/refresh",
        {"url": "https://news.example.com/story?id=1&utm_source=x"},
        format="json",
    )
    assert r.status_code == 201, r.content
    request = route.calls.last.request
    assert request.headers["Host"] == "news.example.com"
    assert request.extensions["sni_hostname"] == "news.example.com"
    article = r.json()["article"]
    assert article["url"] == "https://news.example.com/story?id=1"
    assert article["source"] == "user-submitted"
    assert article["coins"] == ["bitcoin"]
    again = auth_client.post(
        "/api/v1/news/refresh", {"url": "https://news.example.com/story?id=1"}, format="json"
    )
    assert again.status_code == 200 and again.json()["created"] is False


@respx.mock
def test_every_redirect_hop_is_checked_again(auth_client, monkeypatch):
    monkeypatch.setattr(crawl, "system_resolver", RESOLVE)
    respx.get(f"http://{PUBLIC}/go").mock(
        return_value=httpx.Response(302, headers={"Location": "http://169.254.169.254/latest"})
    )
    metadata = respx.get("http://169.254.169.254/latest").mock(return_value=httpx.Response(200))
    r = auth_client.post(
        "/api/v1/news/refresh", {"url": "http://news.example.com/go"}, format="json"
    )
    assert r.status_code == 400
    assert "169.254.169.254" in r.json()["errors"][0]["detail"]
    assert not metadata.called


@respx.mock
def test_too_many_redirects_are_refused(auth_client, monkeypatch, settings):
    settings.NEWS_CRAWL_MAX_REDIRECTS = 2
    monkeypatch.setattr(crawl, "system_resolver", RESOLVE)
    respx.get(f"http://{PUBLIC}/loop").mock(
        return_value=httpx.Response(301, headers={"Location": "/loop"})
    )
    r = auth_client.post(
        "/api/v1/news/refresh", {"url": "http://news.example.com/loop"}, format="json"
    )
    assert r.status_code == 400
    assert "redirects" in r.json()["errors"][0]["detail"]


@respx.mock
@pytest.mark.parametrize(
    ("headers", "content", "reason"),
    [
        ({"Content-Type": "application/pdf"}, b"%PDF-1.7", "content type"),
        ({"Content-Type": "image/png"}, b"\x89PNG", "content type"),
        ({"Content-Type": "text/html"}, b"<html>" + b"a" * 3000, "larger than"),
    ],
)
def test_non_html_and_oversized_pages_are_refused(
    auth_client, monkeypatch, settings, headers, content, reason
):
    settings.NEWS_CRAWL_MAX_BYTES = 2000
    monkeypatch.setattr(crawl, "system_resolver", RESOLVE)
    respx.get(f"http://{PUBLIC}/f").mock(
        return_value=httpx.Response(200, headers=headers, content=content)
    )
    r = auth_client.post(
        "/api/v1/news/refresh", {"url": "http://news.example.com/f"}, format="json"
    )
    assert r.status_code == 400
    assert reason in r.json()["errors"][0]["detail"]


def test_public_addresses_pass_the_check():
    checked = crawl.check_url("https://news.example.com/a", resolver=RESOLVE)
    assert (checked.address, checked.host, checked.port) == (PUBLIC, "news.example.com", 443)
    assert crawl.address_problem("8.8.8.8") is None
    assert crawl.address_problem("2606:4700:4700::1111") is None
