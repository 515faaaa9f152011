"""``manage.py backtest`` on a tiny CSV directory, and its bad-input exits."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from .conftest import make_ohlcv


def _run(csv_dir, out, **extra):
    args = {
        "data": str(csv_dir),
        "symbols": "AAA,BBB",
        "models": "naive,drift,auto",
        "horizons": "1,7",
        "test_start": "2022-09-20",
        "levels": "80,90,95",
        "out": str(out),
        "refit_every": "15",
        "warmup_days": 60,
        "auto_candidates": "naive,drift",
    }
    args.update(extra)
    call_command("backtest", **args)


def test_command_writes_report_markdown_and_plots(csv_dir, tmp_path):
    out = tmp_path / "out" / "report.json"
    _run(csv_dir, out)
    report = json.loads(out.read_text())
    assert set(report) >= {"forecasts", "metrics", "config"}
    rec = report["forecasts"][0]
    assert set(rec) >= {
        "symbol",
        "model",
        "horizon",
        "origin",
        "target",
        "point",
        "lower",
        "upper",
        "actual",
    }
    assert set(rec["lower"]) == {"80", "90", "95"}
    assert {f["symbol"] for f in report["forecasts"]} == {"AAA", "BBB"}
    assert report["config"]["models"] == ["naive", "drift", "auto"]
    md = out.with_suffix(".md").read_text()
    assert "| model | h |" in md and "| drift | 7 |" in md
    pngs = sorted(p.name for p in out.parent.glob("*.png"))
    assert "report_skill.png" in pngs
    assert "report_AAA_auto_h7.png" in pngs


def test_pdf_of_a_backtest_has_the_chart_and_every_model_in_its_table(csv_dir, tmp_path):
    from forecasts.tests import pdf

    out = tmp_path / "out" / "report.json"
    _run(csv_dir, out, pdf=True, no_plots=True, models="naive,drift", horizons="1")
    body = out.with_suffix(".pdf").read_bytes()
    assert pdf.page_count(body) == 2  # chart, then one page of table (2 models x 1 horizon)
    first = pdf.page_text(body, 1)
    assert "cryptocast backtest" in first and "Coins: AAA, BBB" in first
    table = pdf.page_text(body, 2)
    assert "relMAE" in table and "drift" in table and "naive" in table
    assert pdf.looks_drawn(pdf.render_png(body, 1, tmp_path / "page1.png"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"symbols": "AAA,ZZZ"}, "ZZZ.csv: file not found"),
        ({"models": "naive,oracle"}, "unknown model"),
        ({"test_start": "2031-01-01"}, "outside the data"),
        ({"horizons": "1,x"}, "--horizons"),
        ({"refit_every": "often"}, "--refit-every"),
    ],
)
def test_bad_input_exits_non_zero_with_a_readable_message(csv_dir, tmp_path, extra, message):
    with pytest.raises(CommandError, match=message):
        _run(csv_dir, tmp_path / "r.json", **extra)


def test_malformed_csv_is_reported_with_its_line(csv_dir, tmp_path):
    (csv_dir / "AAA.csv").write_text("date,open,high,low,close,volume\n2022-01-01,1,2,0.5,oops,3\n")
    with pytest.raises(CommandError, match=r"AAA.csv: non-numeric .* line\(s\) 2"):
        _run(csv_dir, tmp_path / "r.json")


def test_missing_column_is_reported(csv_dir, tmp_path):
    (csv_dir / "AAA.csv").write_text("date,open,high,low,volume\n2022-01-01,1,2,0.5,3\n")
    with pytest.raises(CommandError, match="missing columns: close"):
        _run(csv_dir, tmp_path / "r.json")


def test_reports_of_different_models_merge_into_one_summary(csv_dir, tmp_path):
    _run(csv_dir, tmp_path / "a.json", models="naive,drift", no_plots=True)
    _run(csv_dir, tmp_path / "b.json", models="naive,auto", no_plots=True)
    call_command(
        "backtest",
        merge=[str(tmp_path / "a.json"), str(tmp_path / "b.json")],
        out=str(tmp_path / "all.json"),
        no_plots=True,
    )
    merged = json.loads((tmp_path / "all.json").read_text())
    assert merged["config"]["models"] == ["naive", "drift", "auto"]
    assert sum(f["model"] == "naive" for f in merged["forecasts"]) == sum(
        f["model"] == "drift" for f in merged["forecasts"]
    )
    assert "| auto | 7 |" in (tmp_path / "all.md").read_text()


def test_missing_test_start_is_a_readable_error(csv_dir, tmp_path):
    with pytest.raises(CommandError, match="--test-start is required"):
        _run(csv_dir, tmp_path / "r.json", test_start="")


@pytest.mark.django_db
def test_without_data_dir_the_command_reads_daily_candles_from_the_database(tmp_path):
    from markets.contracts import CandleData
    from markets.models import Asset
    from markets.services.candles import candles_upsert

    frame = make_ohlcv(260, seed=21)
    asset = Asset.objects.create(id="aaa-coin", symbol="AAA", name="Aaa", rank=1)
    candles_upsert(
        asset=asset,
        interval="1d",
        candles=[
            CandleData(
                open_time=ts.to_pydatetime(),
                open=r.open,
                high=r.high,
                low=r.low,
                close=r.close,
                volume=r.volume,
                source="test",
            )
            for ts, r in frame.iterrows()
        ],
    )
    out = tmp_path / "db.json"
    call_command(
        "backtest",
        symbols="AAA",
        models="naive,drift",
        horizons="1",
        test_start="2022-08-20",
        out=str(out),
        warmup_days=30,
        no_plots=True,
    )
    report = json.loads(out.read_text())
    assert report["config"]["data"] == "database"
    assert {f["model"] for f in report["forecasts"]} == {"naive", "drift"}
    with pytest.raises(CommandError, match="ZZZ"):
        call_command("backtest", symbols="ZZZ", test_start="2022-08-20", out=str(out))
