"""URL canonicalisation, plain text, and coin tagging (ambiguous tickers need context)."""

from __future__ import annotations

import pytest

from news.contracts import AssetRef
from news.tagging import CoinTagger
from news.text import canonical_url, plain_text

REGISTRY = [  # best rank first, as markets.selectors.asset_list orders them
    AssetRef("bitcoin", "BTC", "Bitcoin", 1),
    AssetRef("ethereum", "ETH", "Ethereum", 2),
    AssetRef("chainlink", "LINK", "Chainlink", 12),
    AssetRef("bitcoin-cash", "BCH", "Bitcoin Cash", 20),
    AssetRef("harmony", "ONE", "Harmony", 150),
    AssetRef("near", "NEAR", "NEAR Protocol", 25),
    AssetRef("uniswap", "UNI", "Uniswap", 30),
    AssetRef("fake-eth", "ETH", "Fake Ether", 900),  # a symbol collision: rank decides
]


@pytest.fixture
def tagger() -> CoinTagger:
    return CoinTagger(REGISTRY)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (
            "https://cointelegraph.com/news/x?utm_source=rss_feed&utm_medium=rss",
            "https://cointelegraph.com/news/x",
        ),
        ("HTTPS://WWW.CoinDesk.com:443/a/b/?b=2&a=1#frag", "https://coindesk.com/a/b?a=1&b=2"),
        ("http://decrypt.co:80/1?fbclid=abc&id=7", "http://decrypt.co/1?id=7"),
        ("https://x.test", "https://x.test/"),
    ],
)
def test_canonical_url_strips_tracking_and_normalises(raw, canonical):
    assert canonical_url(raw) == canonical


def test_plain_text_removes_scripts_tags_and_double_escapes():
    html = "<p>What&amp;#039;s <b>new</b></p><script>alert(1)</script>\n  next"
    assert plain_text(html) == "What's new next"
    assert plain_text("x" * 50, limit=10) == "x" * 9 + "…"


def test_names_and_plain_symbols_are_tagged(tagger):
    assert tagger.tag("Bitcoin rallies while ETH lags") == ("bitcoin", "ethereum")


def test_longest_name_wins_its_span(tagger):
    assert tagger.tag("Bitcoin Cash miners move coins") == ("bitcoin-cash",)


def test_a_shared_symbol_goes_to_the_best_ranked_asset(tagger):
    assert tagger.tag("ETH gas fees fall") == ("ethereum",)


@pytest.mark.parametrize(
    "text",
    [
        "One more thing about markets",
        "ONE of the biggest stories this year",
        "Click the LINK below to read more",
        "The deal is NEAR completion",
        "Visit our UNI campus",
        "link the accounts",
    ],
)
def test_ambiguous_tickers_without_context_are_not_tagged(tagger, text):
    assert tagger.tag(text) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$LINK jumps 12% after the announcement", ("chainlink",)),
        ("LINK/USD breaks resistance", ("chainlink",)),
        ("LINK price surges on staking news", ("chainlink",)),
        ("Chainlink launches CCIP", ("chainlink",)),
        ("Harmony ONE token falls", ("harmony",)),
        ("NEAR token rallies 20%", ("near",)),
    ],
)
def test_ambiguous_tickers_with_context_are_tagged(tagger, text, expected):
    assert tagger.tag(text) == expected


def test_an_all_caps_headline_is_not_read_as_tickers(tagger):
    assert tagger.tag("BREAKING: WHY ONE LINK MATTERS FOR ETH TRADERS") == ()


def test_an_empty_registry_tags_nothing():
    assert CoinTagger([]).tag("Bitcoin BTC $ETH") == ()
