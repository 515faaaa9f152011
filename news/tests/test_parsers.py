"""Parsers over bytes, on the recorded feeds (and hand-made payloads where none exist)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.http import InvalidPayload
from news.parsers.cryptopanic import parse_posts
from news.parsers.gdelt import parse_artlist, parse_timelinetone
from news.parsers.reddit import parse_listing
from news.parsers.rss import parse_feed

RECORDED = [
    ("coindesk_rss_2025-12-13_25items.xml", 25),
    ("coindesk_rss_2026-09-25_3items.xml", 3),
    ("cointelegraph_rss_2025-12-12_30items.xml", 30),
    ("decrypt_rss_2025-12-12_58items.xml", 58),
    ("theblock_rss_2025-12-13_19items.xml", 19),
]


@pytest.mark.parametrize(("name", "count"), RECORDED)
def test_every_recorded_feed_parses_into_plain_text_items_with_utc_times(rss, name, count):
    feed = parse_feed(rss(name))
    assert len(feed.items) == count
    assert feed.rejected == 0
    for item in feed.items:
        assert item.url.startswith("https://")
        assert item.published_at is not None and item.published_at.tzinfo is UTC
        assert "<" not in item.title and "<" not in item.summary
        assert "&amp;" not in item.summary and "&#" not in item.summary


def test_the_block_eastern_offsets_are_converted_to_utc(rss):
    body = rss("theblock_rss_2025-12-13_19items.xml")
    first = parse_feed(body).items[0]
    assert b"-0500" in body
    # 2025-12-12 17:33:11 -0500 in the feed
    assert first.published_at == datetime(2025, 12, 12, 22, 33, 11, tzinfo=UTC)


def test_decrypt_double_escaped_apostrophes_become_plain_text(rss):
    feed = parse_feed(rss("decrypt_rss_2025-12-12_58items.xml"))
    assert feed.title == "Decrypt"
    assert "'Digital Labubu'" in feed.items[0].title


def test_cointelegraph_html_descriptions_are_stripped(rss):
    item = parse_feed(rss("cointelegraph_rss_2025-12-12_30items.xml")).items[0]
    assert item.summary.startswith("Figure is planning a second IPO")
    assert "img" not in item.summary


def test_truncated_xml_is_invalid(rss):
    body = rss("coindesk_rss_2025-12-13_25items.xml")
    with pytest.raises(InvalidPayload, match="not well-formed"):
        parse_feed(body[: len(body) // 2])


def test_an_html_page_instead_of_a_feed_is_invalid():
    body = b"<!DOCTYPE html><html><body><h1>Just a moment...</h1></body></html>"  # hand-made
    with pytest.raises(InvalidPayload, match="HTML"):
        parse_feed(body)


def test_entity_expansion_is_refused():
    bomb = (  # hand-made "billion laughs"
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<rss><channel><title>&lol2;</title></channel></rss>"
    )
    with pytest.raises(InvalidPayload):
        parse_feed(bomb)


def test_xml_that_is_not_a_feed_is_invalid():
    with pytest.raises(InvalidPayload, match="not a feed"):
        parse_feed(b"<?xml version='1.0'?><html><p>hi</p></html>")


def test_entries_without_link_or_title_are_counted_as_rejected():
    body = (  # hand-made
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><title>Ok</title><link>https://x.test/a</link></item>"
        b"<item><title>No link</title></item>"
        b"<item><title></title><link>https://x.test/b</link></item>"
        b"<item><title>js</title><link>javascript:alert(1)</link></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(body)
    assert [i.url for i in feed.items] == ["https://x.test/a"]
    assert feed.rejected == 3
    assert feed.items[0].published_at is None


def test_atom_feeds_parse():
    body = (  # hand-made Atom 1.0
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b'<entry><title>Ether &amp; friends</title><link href="https://a.test/1"/>'
        b"<updated>2025-12-12T10:00:00+02:00</updated><summary>&lt;b&gt;bold&lt;/b&gt;</summary>"
        b"</entry></feed>"
    )
    item = parse_feed(body).items[0]
    assert item.title == "Ether & friends"
    assert item.summary == "bold"
    assert item.published_at == datetime(2025, 12, 12, 8, 0, tzinfo=UTC)


def test_recorded_gdelt_artlist_parses_with_gdelt_quirks(gdelt_bytes):
    feed = parse_artlist(gdelt_bytes)
    assert len(feed.items) == 250
    times = [i.published_at for i in feed.items]
    assert max(times) == datetime(2026, 7, 22, 12, 15, tzinfo=UTC)
    assert min(times) == datetime(2026, 7, 22, 10, 15, tzinfo=UTC)
    assert sum(1 for i in feed.items if i.language == "en") == 61
    assert not any(" ," in i.title for i in feed.items)  # GDELT's "word , word" spacing


def test_gdelt_empty_answer_and_garbage():
    assert parse_artlist(b"{}").items == ()
    with pytest.raises(InvalidPayload):
        parse_artlist(b'{"articles": [{"url": "https://x.test"}]}')  # no seendate
    with pytest.raises(InvalidPayload):
        parse_artlist(b"<html>rate limited</html>")


def test_gdelt_timelinetone_in_the_documented_shape():
    body = json.dumps(  # hand-made: no recorded timelinetone response exists
        {
            "query_details": {"title": "bitcoin"},
            "timeline": [
                {
                    "series": "Average Tone",
                    "data": [
                        {"date": "20260720T000000Z", "value": -1.25},
                        {"date": "20260720T001500Z", "value": 0.5},
                    ],
                }
            ],
        }
    ).encode()
    bins = parse_timelinetone(body)
    assert [b.tone for b in bins] == [-1.25, 0.5]
    assert bins[0].time == datetime(2026, 7, 20, tzinfo=UTC)
    with pytest.raises(InvalidPayload):
        parse_timelinetone(b'{"timeline": [{"data": [{"date": "yesterday", "value": 1}]}]}')


def reddit_listing(children):  # type: ignore[no-untyped-def]
    """Hand-made: no genuine recorded Reddit listing exists (see the data README)."""
    return json.dumps({"kind": "Listing", "data": {"after": None, "children": children}}).encode()


def post(**kw):  # type: ignore[no-untyped-def]
    data = {
        "id": "abc",
        "title": "BTC breaks out",
        "permalink": "/r/Bitcoin/comments/abc/x/",
        "created_utc": 1765540800.0,
        "author": "satoshi",
        "selftext": "&lt;hi&gt;",
    }
    data.update(kw)
    return {"kind": "t3", "data": data}


def test_reddit_listing_uses_permalinks_and_skips_stickied_posts():
    feed = parse_listing(reddit_listing([post(), post(id="s", stickied=True, permalink="/s")]))
    assert [i.url for i in feed.items] == ["https://www.reddit.com/r/Bitcoin/comments/abc/x/"]
    assert feed.items[0].published_at == datetime(2025, 12, 12, 12, 0, tzinfo=UTC)
    assert feed.items[0].summary == "<hi>"
    assert feed.rejected == 1


def test_reddit_garbage_is_invalid():
    with pytest.raises(InvalidPayload):
        parse_listing(b'{"kind": "t3", "data": {}}')
    with pytest.raises(InvalidPayload):
        parse_listing(b'{"message": "Forbidden", "error": 403}')


def test_cryptopanic_posts_keep_the_vendor_coin_codes():
    body = json.dumps(  # hand-made in the documented v1 shape (no genuine recording exists)
        {
            "count": 1,
            "next": None,
            "results": [
                {
                    "kind": "news",
                    "title": "Solana ETF filed",
                    "published_at": "2025-12-12T10:00:00Z",
                    "url": "https://cryptopanic.com/news/1/solana-etf",
                    "id": 1,
                    "currencies": [{"code": "sol", "title": "Solana"}],
                },
                {
                    "kind": "news",
                    "title": "",
                    "published_at": "2025-12-12T10:00:00Z",
                    "url": "https://cryptopanic.com/news/2",
                },
            ],
        }
    ).encode()
    feed = parse_posts(body)
    assert feed.items[0].coin_codes == ("SOL",)
    assert feed.rejected == 1
    with pytest.raises(InvalidPayload):
        parse_posts(b'{"results": [{"title": "x", "published_at": "not-a-date"}]}')
