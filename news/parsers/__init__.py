"""Parsers over bytes: recorded or fetched bodies in, frozen dataclasses out (no I/O)."""

from core.http import InvalidPayload

__all__ = ["InvalidPayload"]
