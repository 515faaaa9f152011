"""A JSON parser that honours ``DATA_UPLOAD_MAX_MEMORY_SIZE``.

DRF's ``JSONParser`` reads the request stream directly, so Django's body-size limit (which
lives in ``HttpRequest.body``) never applies to JSON: a huge body would be read into memory.
This parser refuses it up front with ``RequestDataTooBig``, which ``core.errors`` turns into a
413 in the envelope. Usable per view or in ``DEFAULT_PARSER_CLASSES``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None and limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
        return super().parse(stream, media_type, parser_context)
