"""The backtest service (``forecasts.services.backtesting``) that ``manage.py backtest`` and the
``forecasts.backtest`` task share: validation, the run and its files, the task, the enqueue."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from celery import current_app

from forecasts import services, tasks
from forecasts.engine import EngineError
from forecasts.services.backtesting import backtest_frames, planned_steps

OPTIONS = {
    "symbols": "AAA,BBB",
    "models": "naive,drift",
    "horizons": "1",
    "test_start": "2022-09-20",
    "refit_every": "15",
    "warmup_days": 60,
    "plots": False,
}


def _request(csv_dir, tmp_path, **extra):
    return services.backtest_request(
        **{**OPTIONS, "data": str(csv_dir), "out": str(tmp_path / "out" / "r.json"), **extra}
    )


def test_a_request_is_validated_and_normalised(csv_dir, tmp_path):
    request = _request(csv_dir, tmp_path, symbols=" aaa, BBB ,", models=["Naive", "drift"])
    assert request.symbols == ("AAA", "BBB") and request.models == ("naive", "drift")
    assert request.config.horizons == (1,) and request.config.refit_every == 15
    assert request.plots is False and request.pdf is False
    # the options it keeps (what the task is sent) are JSON and make the same request again
    assert services.backtest_request(**json.loads(json.dumps(request.options))) == request


def test_lists_are_accepted_where_the_command_gives_comma_text(csv_dir, tmp_path):
    request = _request(csv_dir, tmp_path, horizons=[1, 7], levels=[80, 95], refit_every=20)
    assert request.config.horizons == (1, 7) and request.config.levels == (80, 95)
    assert request.config.refit_every == 20


def test_without_out_the_report_goes_to_the_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    request = services.backtest_request(symbols="BTC", test_start="2024-01-01")
    assert request.out == tmp_path / "backtest" / "report.json" and request.data is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"test_start": ""}, "--test-start is required"),
        ({"symbols": " , "}, "--symbols: give at least one symbol"),
        ({"models": "naive,oracle"}, "--models: unknown model"),
        ({"models": ""}, "--models: unknown model"),
        ({"auto_candidates": "naive,oracle"}, "--auto-candidates: unknown model"),
        ({"horizons": "1,x"}, "--horizons"),
        ({"levels": "80,100"}, "--levels: percentages below 100"),
        ({"test_start": "not a day"}, "--test-start/--test-end: expected YYYY-MM-DD"),
        ({"refit_every": "often"}, "--refit-every"),
        ({"params": ["lstm-epochs"]}, "--param: expected model.name=value"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_read(csv_dir, tmp_path, extra, message):
    with pytest.raises(EngineError, match=message):
        _request(csv_dir, tmp_path, **extra)
    assert not (tmp_path / "out").exists()


def test_a_run_writes_the_report_and_counts_its_steps(csv_dir, tmp_path):
    opened: list[int] = []
    done_steps: list[int] = []

    class Counter:
        def update(self, n: int = 1) -> None:
            done_steps.append(n)

    @contextmanager
    def progress(total: int):
        opened.append(total)
        yield Counter()

    request = _request(csv_dir, tmp_path)
    outcome = services.backtest_run(request=request, progress=progress)
    report = json.loads(outcome.out.read_text())
    assert outcome.out == tmp_path / "out" / "r.json" and outcome.markdown.suffix == ".md"
    assert outcome.forecasts == len(report["forecasts"]) > 0
    assert (outcome.symbols, outcome.models, outcome.files) == (2, 2, [])
    assert report["config"]["data"] == str(csv_dir) and report["config"]["models"] == [
        "naive",
        "drift",
    ]
    assert "| drift | 1 |" in outcome.markdown.read_text()
    frames = backtest_frames(symbols=request.symbols, data=request.data)
    assert opened == [planned_steps(frames, request.models, request.config)]
    assert 0 < sum(done_steps) <= opened[0]


def test_a_run_without_progress_and_with_a_pdf(csv_dir, tmp_path):
    outcome = services.backtest_run(request=_request(csv_dir, tmp_path, pdf=True))
    assert [p.name for p in outcome.files] == ["r.pdf"]
    assert outcome.files[0].read_bytes().startswith(b"%PDF")


def test_merging_needs_readable_reports(tmp_path):
    with pytest.raises(EngineError, match="--merge: cannot read"):
        services.backtest_merge(reports=[str(tmp_path / "missing.json")], out=tmp_path / "m.json")


def test_the_task_runs_the_service_and_answers_json(csv_dir, tmp_path):
    options = {**OPTIONS, "data": str(csv_dir), "out": str(tmp_path / "t" / "r.json")}
    result = tasks.backtest.run(**options)
    assert json.loads(json.dumps(result)) == result
    assert result["out"] == options["out"] and result["forecasts"] > 0
    assert json.loads((tmp_path / "t" / "r.json").read_text())["config"]["models"] == [
        "naive",
        "drift",
    ]
    with pytest.raises(EngineError, match="--test-start is required"):
        tasks.backtest.run(**{**options, "test_start": ""})


def test_the_task_acks_late_with_time_limits_and_the_retry_policy():
    task = tasks.backtest
    assert task.name == "forecasts.backtest" and task.acks_late is True
    assert task.soft_time_limit < task.time_limit
    assert task.autoretry_for == tasks.train_task.autoretry_for
    assert EngineError not in task.autoretry_for  # bad input is not retried


@pytest.mark.django_db
@pytest.mark.parametrize(("queue", "expected"), [("training", "training"), ("", None)])
def test_enqueue_sends_the_options_to_the_training_queue_on_commit(
    csv_dir, tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks, queue, expected
):
    settings.FORECAST_TRAINING_QUEUE = queue
    sent: list[tuple[str, dict, dict]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, kwargs=None, **o: sent.append((name, kwargs, o))
    )
    request = _request(csv_dir, tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        task_id = services.backtest_enqueue(request=request)
        assert sent == []
    ((name, kwargs, options),) = sent
    assert (name, kwargs, options["task_id"]) == ("forecasts.backtest", request.options, task_id)
    assert options.get("queue") == expected
