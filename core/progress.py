"""Progress bars for management commands: tqdm on stderr when it is a terminal (or when the
command's ``--progress`` forces it), silent otherwise so logs and CI output stay clean."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from tqdm import tqdm


def progress(iterable: Iterable[Any] | None = None, *, force: bool = False, **kwargs: Any) -> tqdm:
    """A tqdm bar (use as a context manager with ``.update``, or iterate over it)."""
    return tqdm(iterable, file=sys.stderr, disable=not (force or sys.stderr.isatty()), **kwargs)


def progress_wrapper(*, desc: str, force: bool = False) -> Callable[[Iterable[Any]], Iterable[Any]]:
    """For services that take ``progress=`` and wrap their own work list with it."""

    def wrap(items: Iterable[Any]) -> Iterable[Any]:
        return progress(list(items), desc=desc, unit="job", force=force)

    return wrap


def progress_counter(*, desc: str, unit: str, force: bool = False) -> Callable[[int], tqdm]:
    """For services that take ``progress=`` and count their own steps: ``progress(total)`` is a
    bar to use as a context manager, ``.update(n)`` after each ``n`` steps."""

    def open_bar(total: int) -> tqdm:
        return progress(total=total, desc=desc, unit=unit, force=force)

    return open_bar
