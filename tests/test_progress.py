"""Commands show progress bars on a terminal only (or when forced), never in logs/CI."""

from core.progress import progress, progress_wrapper


def test_bar_is_silent_when_stderr_is_not_a_terminal(capsys):
    with progress(total=3, desc="quiet") as bar:
        bar.update(3)
    assert bar.disable is True
    assert "quiet" not in capsys.readouterr().err


def test_forced_bar_draws_on_stderr(capsys):
    with progress(total=2, desc="forced", force=True) as bar:
        bar.update(2)
    assert "forced" in capsys.readouterr().err


def test_wrapper_yields_every_item_once():
    assert list(progress_wrapper(desc="jobs")(iter([1, 2, 3]))) == [1, 2, 3]
