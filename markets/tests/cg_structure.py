"""Structural diff of our CoinGecko-compatible answers against CoinGecko's recorded ones.

Keys, JSON kinds (int and float are both "number", as JSON has one number type), nesting and
row lengths must match, except the differences documented in
``markets.coingecko_api.differences`` (null, absent, empty, currency/coin maps).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from markets.coingecko_api import differences


def kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "object"


def _listed(table: dict[str, tuple[str, ...]], endpoint: str, path: str) -> bool:
    return any(fnmatchcase(path, pat) for pat in table.get(endpoint, ()))


def _child(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def diff(recorded: Any, ours: Any, *, endpoint: str, path: str = "") -> list[str]:
    """Every undocumented structural difference, as ``path: what`` lines (empty: compatible)."""
    if recorded is None:
        return []  # CoinGecko's own null: it has no type to hold us to
    if ours is None:
        if _listed(differences.NULL, endpoint, path):
            return []
        return [f"{path}: null, recorded {kind(recorded)}"]
    if kind(recorded) != kind(ours):
        return [f"{path}: {kind(ours)}, recorded {kind(recorded)}"]
    out: list[str] = []
    if isinstance(recorded, dict):
        if _listed(differences.MAPS, endpoint, path):
            sample = next(iter(recorded.values()), None)
            for key, value in ours.items():
                out += diff(
                    recorded.get(key, sample), value, endpoint=endpoint, path=_child(path, key)
                )
            return out
        for key in recorded:
            child = _child(path, key)
            if key not in ours and not _listed(differences.ABSENT, endpoint, child):
                out.append(f"{child}: missing")
        for key in ours:
            if key not in recorded:
                out.append(f"{_child(path, key)}: not in the recorded answer")
            else:
                out += diff(recorded[key], ours[key], endpoint=endpoint, path=_child(path, key))
        return out
    if isinstance(recorded, list):
        if not ours:
            if recorded and not _listed(differences.EMPTY, endpoint, path):
                out.append(f"{path}: empty, recorded {len(recorded)} items")
            return out
        if not recorded:
            return out
        is_row = all(kind(v) == "number" for v in recorded)
        if is_row and len(ours) != len(recorded):
            return [f"{path}: row of {len(ours)}, recorded {len(recorded)}"]
        if is_row:
            for i, (r, o) in enumerate(zip(recorded, ours, strict=True)):
                out += diff(r, o, endpoint=endpoint, path=_child(path, i))
            return out
        for i, item in enumerate(ours[:5]):
            out += diff(recorded[0], item, endpoint=endpoint, path=_child(path, i))
    return out
