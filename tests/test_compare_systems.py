"""Unit tests of the pure helpers of ``benchmarks/compare_systems.py`` (data preparation, the
plain seasonal naive and the scoring). They do not need statsforecast or mlforecast."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_systems.py"


@pytest.fixture(scope="module")
def cs():
    spec = importlib.util.spec_from_file_location("compare_systems", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_systems"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("compare_systems", None)
    assert "statsforecast" not in module.__dict__ and "mlforecast" not in module.__dict__


def _weeks(n: int, start: str = "2010-02-05") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="W-FRI")


@pytest.fixture()
def train_csv(tmp_path: Path) -> Path:
    weeks = _weeks(60)
    rows = []
    for week_no, date in enumerate(weeks):
        # series 1_1: whole span, value = week number, but no row in week 10 (no sales)
        if week_no != 10:
            rows.append((1, 1, date, float(week_no), week_no % 13 == 0))
        # series 1_2: starts at week 30
        if week_no >= 30:
            rows.append((1, 2, date, 100.0, week_no % 13 == 0))
    # series 2_1: only in the last 3 weeks (no history once the test window is 5 weeks)
    for date in weeks[-3:]:
        rows.append((2, 1, date, 7.0, False))
    frame = pd.DataFrame(rows, columns=["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"])
    frame["Date"] = frame["Date"].dt.strftime("%Y-%m-%d")
    frame["IsHoliday"] = frame["IsHoliday"].map({True: "TRUE", False: "FALSE"})
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return tmp_path


def test_split_takes_the_last_weeks_as_test(cs, train_csv):
    history, test = cs.split(cs.load_train(train_csv), horizon=5)
    assert history["date"].max() == _weeks(55)[-1]
    assert test["date"].nunique() == 5 and test["date"].min() == _weeks(56)[-1]
    assert test["is_holiday"].dtype == bool
    with pytest.raises(ValueError, match="horizon"):
        cs.split(cs.load_train(train_csv), horizon=60)


def test_cut_keeps_train_up_to_the_date_so_the_test_window_moves(cs, train_csv, tmp_path):
    for name in ("features.csv", "stores.csv"):
        (train_csv / name).write_text("Store\n1\n")
    cut = cs.cut_data(train_csv, f"{_weeks(40)[-1]:%Y-%m-%d}", tmp_path / "cut")
    history, test = cs.split(cs.load_train(cut), horizon=5)
    assert test["date"].max() == _weeks(40)[-1] and history["date"].max() == _weeks(35)[-1]
    assert (cut / "features.csv").read_text() == "Store\n1\n"
    with pytest.raises(SystemExit, match="keeps 0 of"):
        cs.cut_data(train_csv, "2009-01-01", tmp_path / "none")
    with pytest.raises(SystemExit, match="keeps 92 of 92"):
        cs.cut_data(train_csv, "2030-01-01", tmp_path / "all")


def test_cut_files_stay_in_the_cache_or_go_with_the_run(cs, train_csv, tmp_path, monkeypatch):
    for name in ("features.csv", "stores.csv"):
        (train_csv / name).write_text("Store\n1\n")
    seen = []

    def fake_run(args, horizons, data_dir):
        assert (Path(data_dir) / "train.csv").exists()
        seen.append((Path(data_dir), args.peer_cache))

    monkeypatch.setattr(cs, "run", fake_run)
    cut = f"{_weeks(40)[-1]:%Y-%m-%d}"
    cs.main(["--data-dir", str(train_csv), "--cut", cut, "--horizon", "5"])
    folder, cache = seen[-1]
    assert cache is None and not folder.exists()  # no cache: a temporary folder, removed
    cs.main(["--data-dir", str(train_csv), "--cut", cut, "--peer-cache", str(tmp_path / "c")])
    folder, cache = seen[-1]
    assert folder == tmp_path / "c" / f"cut-{cut}" and Path(cache) == folder and folder.exists()


def test_regular_panel_fills_missing_weeks_with_zero_up_to_the_cutoff(cs, train_csv):
    history, _ = cs.split(cs.load_train(train_csv), horizon=5)
    panel = cs.regular_panel(history)
    assert set(panel["unique_id"]) == {"1_1", "1_2"}  # 2_1 has no history
    s11 = panel[panel["unique_id"] == "1_1"]
    assert len(s11) == 55 and s11["ds"].is_monotonic_increasing
    assert s11.loc[s11["ds"] == _weeks(11)[-1], "y"].item() == 0.0
    s12 = panel[panel["unique_id"] == "1_2"]
    assert len(s12) == 25 and s12["ds"].min() == _weeks(31)[-1]


def test_seasonal_naive_looks_52_weeks_back_else_the_level(cs, train_csv):
    history, _ = cs.split(cs.load_train(train_csv), horizon=5)
    forecasts, n_fallback = cs.seasonal_naive_forecast(cs.regular_panel(history), horizon=5)
    assert len(forecasts) == 2 * 5
    s11 = forecasts[forecasts["unique_id"] == "1_1"].sort_values("ds")
    np.testing.assert_allclose(s11["yhat"], [3.0, 4.0, 5.0, 6.0, 7.0])  # weeks 55..59 minus 52
    s12 = forecasts[forecasts["unique_id"] == "1_2"]
    np.testing.assert_allclose(s12["yhat"], 100.0)  # too young: mean of its last 52 weeks
    assert n_fallback == 1
    with pytest.raises(ValueError, match="horizon"):
        cs.seasonal_naive_forecast(cs.regular_panel(history), horizon=53)


def test_score_forecasts_zero_for_series_without_history(cs, train_csv):
    history, test = cs.split(cs.load_train(train_csv), horizon=5)
    forecasts, _ = cs.seasonal_naive_forecast(cs.regular_panel(history), horizon=5)
    metrics, n_zero = cs.score_forecasts(test, forecasts)
    assert n_zero == 3  # the three test rows of 2_1
    # errors: 1_1 |w - (w - 52)| = 52 on 5 rows, 1_2 0 on 5 rows, 2_1 |7 - 0| = 7 on 3 rows;
    # holidays are week_no % 13 == 0 (0, 13, 26, 39, 52): none in the test weeks 55..59
    assert metrics["mae"] == pytest.approx((5 * 52 + 3 * 7) / 13)
    assert metrics["wmae"] == pytest.approx(metrics["mae"])  # no holiday in the test window


def test_score_forecasts_weights_holidays(cs):
    test = pd.DataFrame(
        {
            "store": [1, 1],
            "dept": [1, 1],
            "date": pd.to_datetime(["2012-01-06", "2012-01-13"]),
            "weekly_sales": [10.0, 10.0],
            "is_holiday": [True, False],
        }
    )
    forecasts = pd.DataFrame({"unique_id": ["1_1", "1_1"], "ds": test["date"], "yhat": [4.0, 10.0]})
    metrics, n_zero = cs.score_forecasts(test, forecasts)
    assert n_zero == 0
    assert metrics["wmae"] == pytest.approx(5 * 6 / 6)
    assert metrics["mae"] == pytest.approx(3.0)
    assert metrics["rmse"] == pytest.approx(np.sqrt(18.0))


def test_best_of_applies_the_five_percent_target(cs):
    assert cs.best_of(95.0, {"a": 100.0, "b": 120.0}) == ("a", 100.0, True)
    assert cs.best_of(95.1, {"a": 100.0, "b": 120.0})[2] is False


def test_peer_intervals_are_scored_like_ours(cs):
    test = pd.DataFrame(
        {
            "store": [1, 1, 2],
            "dept": [1, 1, 1],
            "date": pd.to_datetime(["2012-01-06", "2012-01-13", "2012-01-06"]),
            "weekly_sales": [10.0, 30.0, 5.0],
            "is_holiday": [True, False, False],
        }
    )
    forecasts = pd.DataFrame(
        {
            "unique_id": ["1_1", "1_1"],
            "ds": test["date"][:2],
            "yhat": [10.0, 10.0],
            "yhat-lo-95": [0.0, 0.0],
            "yhat-lo-80": [5.0, 5.0],
            "yhat-hi-80": [15.0, 15.0],
            "yhat-hi-95": [20.0, 20.0],
        }
    )
    scores = cs.score_interval_forecasts(test, forecasts)
    # row 1 inside both; row 2 (30) above both; row 3 (2_1, no history): forecast 0, zero width,
    # missed
    assert scores["80"]["coverage"] == pytest.approx(1 / 3) and scores["95"][
        "coverage"
    ] == pytest.approx(1 / 3)
    assert scores["80"]["width"] == pytest.approx(20 / 3)
    # interval score 80 %: 10 | 10 + 10 x 15 | 0 + 10 x 5
    assert scores["80"]["interval_score"] == pytest.approx((10 + 160 + 50) / 3)
    assert scores["rows_without_bounds"] == 1
    assert (
        cs.score_interval_forecasts(test, forecasts[["unique_id", "ds", "yhat"]]) is None
    )  # no bounds


def test_interval_verdict_applies_the_ten_percent_target(cs):
    def iv(score):
        return {
            lv: {"coverage": 0.8, "width": 1.0, "interval_score": score} for lv in ("80", "95")
        } | {"pinball": 1.0}

    rows = [
        {"system": "ours: champion (x)", "intervals": iv(90.0)},
        {"system": "statsforecast_mstl", "intervals": iv(100.0)},
        {"system": "seasonal_naive", "intervals": None},
    ]
    verdict = cs.interval_verdict(rows)
    assert verdict["80"] == {
        "best_other": "statsforecast_mstl",
        "best_other_interval_score": 100.0,
        "ratio": 0.9,
        "reached": True,
    }
    rows[0]["intervals"] = iv(90.1)
    assert cs.interval_verdict(rows)["95"]["reached"] is False
    assert cs.print_intervals(rows) == cs.interval_verdict(rows)
    table = cs.interval_markdown([{"horizon": 39, "rows": rows}])
    assert table.count("\n") == 3 and "| 39 | ours: champion (x) |" in table and "0.901" in table


def test_peer_cache_runs_a_reference_system_once_then_reuses_it(
    cs, train_csv, tmp_path, monkeypatch
):
    cache, data_dir = tmp_path / "peers", str(train_csv.resolve())
    seconds, peak, out = cs.run_peer("seasonal_naive", 5, data_dir, tmp_path, str(cache))
    assert (
        out == cache / "h5_seasonal_naive"
        and Path(f"{out}.parquet").exists()
        and seconds > 0
        and peak > 0
    )
    first = pd.read_parquet(f"{out}.parquet")

    def no_child(*_args, **_kwargs):
        raise AssertionError("a cached reference system was refitted")

    monkeypatch.setattr(cs, "run_child", no_child)
    assert cs.run_peer("seasonal_naive", 5, data_dir, tmp_path, str(cache)) == (seconds, peak, out)
    pd.testing.assert_frame_equal(pd.read_parquet(f"{out}.parquet"), first)
    with pytest.raises(AssertionError, match="refitted"):  # another horizon is not in the cache
        cs.run_peer("seasonal_naive", 4, data_dir, tmp_path, str(cache))
