"""core.gctune: the collector tuning servers apply once the application is loaded."""

from __future__ import annotations

import gc

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.gctune import parse_threshold, tune_for_server


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10000,20,20", (10000, 20, 20)), (" 700, 10, 10 ", (700, 10, 10)), ("", None), ("  ", None)],
)
def test_threshold_is_parsed(value: str, expected: tuple[int, int, int] | None) -> None:
    assert parse_threshold(value) == expected


@pytest.mark.parametrize("value", ["10000", "1,2", "1,2,3,4", "a,b,c", "0,10,10", "-1,10,10"])
def test_a_bad_threshold_says_what_to_give(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="three positive integers"):
        parse_threshold(value)


@pytest.fixture
def restore_gc():  # type: ignore[no-untyped-def]
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_a_server_freezes_what_is_loaded_and_raises_the_threshold(settings, restore_gc) -> None:  # type: ignore[no-untyped-def]
    settings.SERVER_GC_THRESHOLD = "12345,15,15"
    assert tune_for_server() == (12345, 15, 15)
    assert gc.get_threshold() == (12345, 15, 15)
    assert gc.get_freeze_count() > 10_000  # Django and the project, out of every collection


def test_an_empty_setting_leaves_the_collector_alone(settings, restore_gc) -> None:  # type: ignore[no-untyped-def]
    settings.SERVER_GC_THRESHOLD = ""
    before = gc.get_threshold()
    assert tune_for_server() is None
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
