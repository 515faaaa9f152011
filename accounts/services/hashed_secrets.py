"""Random secrets and their digests (only digests are ever stored)."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
