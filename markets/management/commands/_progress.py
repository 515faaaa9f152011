"""A tqdm bar on a TTY, a silent no-op otherwise (logs and CI stay clean)."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress(stream: Any, **kwargs: Any) -> tqdm:
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    return tqdm(file=sys.stderr, disable=not is_tty, **kwargs)
