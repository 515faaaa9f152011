"""JSON from clients, bounded: size, nesting depth and control characters.

DRF's ``JSONParser`` reads the request stream directly, so Django's body-size limit (which
lives in ``HttpRequest.body``) never applies to JSON: a huge body would be read into memory.
This parser refuses it up front with ``RequestDataTooBig``, which ``core.errors`` turns into a
413 in the envelope.

The stdlib decoder recurses once per ``[``/``{``: a body of 100,000 brackets is a
``RecursionError`` (a 500). ``loads_bounded`` counts the nesting depth first (one regex pass,
strings skipped) and refuses anything deeper than ``CORE_JSON_MAX_DEPTH``; it also refuses NUL and
the other C0 control characters (``\\u0000``..``\\u001f`` except tab, newline and carriage
return, and DEL) in every string and key: PostgreSQL cannot store NUL in text. The
WebSocket consumer and the provider client decode through the same function.
"""

from __future__ import annotations

import codecs
import json
import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.utils.json import strict_constant

# Characters no text we store may contain (tab, LF and CR are ordinary text).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONRejected(ValueError):
    """Valid JSON we refuse to decode (too deep, control characters)."""


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (brackets inside strings skipped)."""
    steps = (_DEPTH_STEP.get(m.group(), 0) for m in _STRING_OR_BRACKET.finditer(text))
    return max(accumulate(steps, initial=0))


def _check_strings(value: Any) -> None:
    """Iterative (the depth is already bounded, but no recursion is needed at all)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if CONTROL_CHARACTERS.search(item):
                raise JSONRejected("control characters (such as NUL) are not allowed in strings")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def loads_bounded(
    text: str | bytes, *, max_depth: int | None = None, check_strings: bool = True, **kwargs: Any
) -> Any:
    """``json.loads`` that raises ``ValueError`` (``JSONRejected``) instead of recursing without
    bound or letting control characters through (``check_strings=False``: depth only)."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    limit = settings.CORE_JSON_MAX_DEPTH if max_depth is None else max_depth
    if json_depth(text) > limit:
        raise JSONRejected(f"nested deeper than {limit} levels")
    value = json.loads(text, **kwargs)
    if check_strings:
        _check_strings(value)
    return value


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context.get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
        # A body without Content-Length (chunked) is bounded while reading.
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        parse_constant = strict_constant if api_settings.STRICT_JSON else None
        try:
            return loads_bounded(codecs.decode(raw, encoding), parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
