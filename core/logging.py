"""Structured logging: structlog rendering for stdlib and structlog loggers alike.

Every line carries the request id (django-guid's correlation id) when there is one.
Kept free of Django imports so settings can build the config.
"""

from __future__ import annotations

from typing import Any

import structlog


def _add_request_id(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    try:
        from django_guid import get_guid
    except Exception:  # pragma: no cover - only before Django is importable
        return event_dict
    guid = get_guid()
    if guid and "request_id" not in event_dict:
        event_dict["request_id"] = guid
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


def build_logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    """dictConfig for Django's LOGGING; also configures structlog itself."""
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            *shared_processors(),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    renderer,
                ],
                "foreign_pre_chain": [
                    *shared_processors(),
                    structlog.stdlib.ExtraAdder(),
                    structlog.processors.format_exc_info,
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
