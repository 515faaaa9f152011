"""A tqdm progress bar for the forecasts commands (on stderr; silent when not a TTY unless
``--progress`` forces it)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm


def bar(*, desc: str, force: bool = False) -> Any:
    def wrap(items: Iterable[Any]) -> Iterable[Any]:
        items = list(items)
        disable = not (force or sys.stderr.isatty())
        return tqdm(items, desc=desc, unit="job", file=sys.stderr, disable=disable)

    return wrap
