"""Structured logging: structlog rendering for stdlib and structlog loggers alike.

Every line carries the request id (django-guid's correlation id) when there is one.
Imports nothing that reads Django settings, so settings can build the config.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog
from django_guid import get_guid  # a contextvar: reads no settings

# "/path?query" inside a message (runserver's and servers' access lines, error messages).
_PATH_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")


def _add_request_id(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    guid = get_guid()
    if guid and "request_id" not in event_dict:
        event_dict["request_id"] = guid
    return event_dict


def redact_query_strings(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Query strings may carry secrets (an OAuth ``code``, a token): never log them.

    Django's loggers pass the request as ``extra={"request": ...}``, whose repr has the full
    URL; it becomes ``"GET /path"``. Any ``/path?query`` in a string value loses its query."""
    request = event_dict.get("request")
    if request is not None and hasattr(request, "path") and hasattr(request, "method"):
        event_dict["request"] = f"{request.method} {request.path}"
    for key, value in event_dict.items():
        if isinstance(value, str) and "?" in value:
            event_dict[key] = _PATH_QUERY.sub(r"\1?[redacted]", value)
    return event_dict


def shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_request_id,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def _bound_chain() -> list[Any]:
    """What a structlog logger's event goes through before the stdlib handler's formatter."""
    return [*shared_processors(), structlog.processors.format_exc_info, redact_query_strings]


_EMIT_CHAIN = _bound_chain()


def emit(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log one structured event the way ``structlog.get_logger(name).<level>(event, **fields)``
    does, for a line written on every request: the same processors, the same record (an event
    dict the handler's ``ProcessorFormatter`` renders) and the same output, without the bound
    logger's proxying and the caller lookup (a walk up the stack for a file and line number no
    renderer here prints). About a third of the cost (``bench/request_log.py``)."""
    if not logger.isEnabledFor(level):
        return
    method = logging.getLevelName(level).lower()
    event_dict: Any = {**fields, "event": event}  # the order a bound logger gives
    for processor in _EMIT_CHAIN:
        event_dict = processor(logger, method, event_dict)
    record = logger.makeRecord(logger.name, level, "(unknown file)", 0, event_dict, (), None)
    # What structlog.stdlib.ProcessorFormatter.wrap_for_formatter attaches to its records.
    record._logger = logger  # type: ignore[attr-defined]
    record._name = method  # type: ignore[attr-defined]
    record._emitted = True  # type: ignore[attr-defined]  # StructuredFormatter: no copy needed
    logger.handle(record)


class StructuredFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's ProcessorFormatter, except for ``emit``'s records: those carry no exception
    or stack to strip and are never changed by rendering, so they are rendered from their
    event dict directly instead of from a copy of the whole record (a second LogRecord per
    request line)."""

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "_emitted", False):
            return super().format(record)
        event_dict: Any = {**record.msg, "_record": record, "_from_structlog": True}  # type: ignore[dict-item]
        logger = self.logger if self.logger is not None else record._logger  # type: ignore[attr-defined]
        for processor in self.processors:
            event_dict = processor(logger, record._name, event_dict)  # type: ignore[attr-defined]
        return event_dict  # type: ignore[no-any-return]


def build_logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """dictConfig for Django's LOGGING; also configures structlog itself."""
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*_bound_chain(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": StructuredFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    renderer,
                ],
                "foreign_pre_chain": [
                    *shared_processors(),
                    structlog.stdlib.ExtraAdder(),
                    structlog.processors.format_exc_info,
                    redact_query_strings,
                ],
            }
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
            "django_guid": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            "asyncio": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
        },
    }
