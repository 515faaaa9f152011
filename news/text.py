"""Text and URL normalisation shared by parsers and services (pure functions)."""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "_ga",
        "_gl",
        "spm",
        "share",
        "s_cid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "feature",
        "src",
    }
)
_WS = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS_TEXT = (
    "a an the of to in on for and or as at by with from is are be its it this that after over "
    "into vs amid says said will new than up down here what how why who today week just now"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def canonical_url(url: str) -> str:
    """One spelling per article: lower-case scheme/host, no default port, no fragment,
    no tracking parameters (``utm_*``, ``fbclid``...), remaining parameters sorted."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in {("http", 80), ("https", 443)}
        else (f"{host}:{port}")
    )
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def plain_text(value: str | None, *, limit: int | None = None) -> str:
    """HTML (or double-escaped text) to one line of plain text, sanitised by nh3 first."""
    if not value:
        return ""
    text = nh3.clean(value, tags=set(), attributes={})
    for _ in range(3):  # feeds double-escape (Decrypt: ``&amp;#039;``)
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    text = _WS.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _stem(word: str) -> str:
    """A crude stemmer, enough to make "offers"/"offer" and "approvals"/"approval" meet."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def title_tokens(title: str) -> frozenset[str]:
    """Stemmed content words of a title, for near-duplicate detection."""
    return frozenset(_stem(w) for w in _WORD.findall(title.lower()) if w not in STOPWORDS)


def title_fingerprint(title: str) -> str:
    return hashlib.sha1(" ".join(sorted(title_tokens(title))).encode()).hexdigest()  # noqa: S324


def overlap(a: frozenset[str], b: frozenset[str]) -> tuple[int, float]:
    """(shared words, overlap coefficient |A∩B| / min(|A|, |B|))."""
    if not a or not b:
        return 0, 0.0
    shared = len(a & b)
    return shared, shared / min(len(a), len(b))
