"""Coin tagging: which assets an article mentions (a pure function over the registry).

Names match case-insensitively on word boundaries (``Bitcoin``, ``Bitcoin Cash``: the longest
name wins its span). Symbols match only as written in capitals (``BTC``) or as a cashtag
(``$BTC``). Tickers that are also English words or too short to be safe (``ONE``, ``LINK``,
``NEAR``, ``OP``...) count only with context: a cashtag, a pair (``LINK/USD``), or a nearby
word such as "token", "price" or "coin". A symbol shared by several assets goes to the one
with the best market-cap rank (the registry's order), as ``markets.selectors.asset_get`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .contracts import AssetRef

_AMBIGUOUS_TICKERS_TEXT = (
    "ONE LINK NEAR GAS SAND FLOW ATOM DOT UNI COMP MASK GALA ICP IMX OP ARB SUI APE HOT CAKE BAND "
    "RUNE GRT SUN WIN BAT KEY ANT POND RAY OMG CELO ROSE ALL ANY AMP JOE MAGIC PEOPLE FORTH REAL "
    "SAFE TRUMP PEPE BONK WIF MEME GOLD AI ID ME BOND HIGH LOW FIL ENS STORJ RNDR FET OCEAN AR T"
)
AMBIGUOUS_TICKERS = frozenset(_AMBIGUOUS_TICKERS_TEXT.split())
_CONTEXT_WORDS_TEXT = (
    "token tokens coin coins price prices crypto cryptocurrency altcoin altcoins rally rallies "
    "surges surge jumps drops slumps falls rises trading traders etf staking holders whales "
    "network blockchain mainnet airdrop usd usdt sinks slides climbs gains soars tumbles plunges "
    "support resistance breakout bulls bears"
)
CONTEXT_WORDS = frozenset(_CONTEXT_WORDS_TEXT.split())
_WORDS = re.compile(r"[A-Za-z0-9$]+")


def _name_pattern(names: Iterable[tuple[str, str]]) -> tuple[re.Pattern[str], dict[str, str]]:
    by_name: dict[str, str] = {}
    for name, asset_id in names:
        by_name.setdefault(name.lower(), asset_id)
    alternatives = sorted(by_name, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!x)x"), by_name
    pattern = r"(?<![\w$])(" + "|".join(re.escape(n) for n in alternatives) + r")(?![\w])"
    return re.compile(pattern, re.IGNORECASE), by_name


class CoinTagger:
    """Built once from the registry (best rank first), then applied to many texts."""

    def __init__(self, assets: Sequence[AssetRef]) -> None:
        self.by_symbol: dict[str, str] = {}
        names: list[tuple[str, str]] = []
        for a in assets:  # registry order: best rank first, so the first symbol holder wins
            self.by_symbol.setdefault(a.symbol.upper(), a.id)
            if len(a.name) >= 3 and a.name.upper() != a.symbol.upper():
                names.append((a.name, a.id))
        self.name_re, self.by_name = _name_pattern(names)
        symbols = sorted(self.by_symbol, key=len, reverse=True)
        self.symbol_re = re.compile(
            r"(?<![\w])(\$?)(" + "|".join(re.escape(s) for s in symbols) + r")(?![\w])"
            if symbols
            else r"(?!x)x"
        )

    def tag(self, text: str) -> tuple[str, ...]:
        """Asset ids mentioned in ``text``, in order of first mention, without repeats."""
        found: list[str] = []
        spans: list[tuple[int, int]] = []
        for m in self.name_re.finditer(text):
            asset_id = self.by_name[m.group(1).lower()]
            spans.append(m.span())
            if asset_id not in found:
                found.append(asset_id)
        for m in self.symbol_re.finditer(text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            symbol = m.group(2)
            asset_id = self.by_symbol[symbol]
            if asset_id in found:
                continue
            if self._symbol_counts(text, m, cashtag=bool(m.group(1)), symbol=symbol):
                found.append(asset_id)
        return tuple(found)

    @staticmethod
    def _symbol_counts(text: str, m: re.Match[str], *, cashtag: bool, symbol: str) -> bool:
        if cashtag:
            return True
        if len(symbol) < 2:
            return False
        if symbol not in AMBIGUOUS_TICKERS and len(symbol) >= 3:
            # A capitalised run ("BREAKING NEWS ON ONE") is a shout, not a ticker.
            return not _shouting(text)
        after = text[m.end() : m.end() + 6]
        if re.match(r"/(USD|USDT|USDC|BTC|ETH|EUR)\b", after):
            return True
        window = text[max(m.start() - 40, 0) : m.end() + 40]
        words = {w.lower() for w in _WORDS.findall(window)}
        return bool(words & CONTEXT_WORDS) and not _shouting(text)


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 12 and sum(c.isupper() for c in letters) / len(letters) > 0.8
