"""Unit tests of the ``baselines`` nodes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.pipelines.baselines.nodes import (
    evaluate_baselines,
    forecast_seasonal_naive,
    format_validation_metrics,
)

NAN = np.nan


def week(i: int) -> pd.Timestamp:
    return pd.Timestamp("2012-01-06") + pd.Timedelta(weeks=i)


def tiny_features() -> pd.DataFrame:
    """Weeks 0-2 train, 3 validation, 4 test.

    (1, 1): sales 10, 20, 30 | 50 | 70; no lag -> falls back to history means.
    (1, 2): sales 1, 2, 3 | 4 | 5; lag_52 known in validation and test.
    (1, 3): only a test row -> no history -> 0.
    """
    rows = [
        (1, 1, 0, "train", 10.0, NAN), (1, 1, 1, "train", 20.0, NAN), (1, 1, 2, "train", 30.0, NAN),
        (1, 1, 3, "validation", 50.0, NAN), (1, 1, 4, "test", 70.0, NAN),
        (1, 2, 0, "train", 1.0, NAN), (1, 2, 1, "train", 2.0, NAN), (1, 2, 2, "train", 3.0, NAN),
        (1, 2, 3, "validation", 4.0, 3.5), (1, 2, 4, "test", 5.0, 4.5),
        (1, 3, 4, "test", 9.0, NAN),
    ]
    frame = pd.DataFrame(rows, columns=["store", "dept", "week", "split", "weekly_sales", "lag_52"])
    return frame.assign(date=frame.pop("week").map(week), is_holiday=False)


def prediction(predictions: pd.DataFrame, dept: int, i: int) -> pd.Series:
    selected = predictions[(predictions["dept"] == dept) & (predictions["date"] == week(i))]
    assert len(selected) == 1
    return selected.iloc[0]


def test_seasonal_naive_uses_the_sales_one_season_earlier():
    predictions = forecast_seasonal_naive(tiny_features(), season_length=52)
    assert prediction(predictions, 2, 3)[["prediction", "source"]].tolist() == [3.5, "seasonal"]
    assert prediction(predictions, 2, 4)[["prediction", "source"]].tolist() == [4.5, "seasonal"]


def test_seasonal_naive_falls_back_to_the_mean_before_the_window_origin():
    predictions = forecast_seasonal_naive(tiny_features(), season_length=52)
    # validation origin = week 2: mean(10, 20, 30) = 20
    assert prediction(predictions, 1, 3)[["prediction", "source"]].tolist() == [
        20.0,
        "history_mean",
    ]
    # test origin = week 3: mean(10, 20, 30, 50) = 27.5 (the validation week is history now)
    assert prediction(predictions, 1, 4)[["prediction", "source"]].tolist() == [
        27.5,
        "history_mean",
    ]


def test_seasonal_naive_falls_back_to_zero_without_history():
    predictions = forecast_seasonal_naive(tiny_features(), season_length=52)
    assert prediction(predictions, 3, 4)[["prediction", "source"]].tolist() == [0.0, "zero"]


def test_seasonal_naive_forecasts_every_validation_and_test_row_only():
    predictions = forecast_seasonal_naive(tiny_features(), season_length=52)
    assert len(predictions) == 5
    assert predictions["split"].tolist() == ["validation", "test", "validation", "test", "test"]
    assert predictions["weekly_sales"].tolist() == [50.0, 70.0, 4.0, 5.0, 9.0]
    assert predictions["prediction"].notna().all()


def test_seasonal_naive_on_the_fixture_panel(features, window_ends):
    predictions = forecast_seasonal_naive(features, season_length=52)
    windows = features[features["split"].isin(["validation", "test"])]
    assert len(predictions) == len(windows)
    assert predictions["prediction"].notna().all()
    with_lag = predictions.merge(windows[["store", "dept", "date", "lag_52"]])
    seasonal = with_lag["lag_52"].notna()
    assert (with_lag.loc[seasonal, "prediction"] == with_lag.loc[seasonal, "lag_52"]).all()
    # (1, 2) misses weeks 60-62: its test weeks 112-114 use the mean up to the test origin
    gap_rows = predictions[(predictions["store"] == 1) & (predictions["dept"] == 2)]
    gap_rows = gap_rows[gap_rows["source"] == "history_mean"]
    assert len(gap_rows) == 3
    history = features[(features["store"] == 1) & (features["dept"] == 2)]
    expected = history.loc[history["date"] <= window_ends["validation"], "weekly_sales"].mean()
    assert np.allclose(gap_rows["prediction"], expected)
    # (3, 4) starts inside the test window: no history at all
    late = predictions[(predictions["store"] == 3) & (predictions["dept"] == 4)]
    assert (late["prediction"] == 0).all() and (late["source"] == "zero").all()


def test_seasonal_naive_needs_the_lag_column():
    with pytest.raises(ValueError, match="no 'lag_13' column"):
        forecast_seasonal_naive(tiny_features(), season_length=13)


def test_seasonal_naive_needs_both_windows():
    features = tiny_features()
    with pytest.raises(ValueError, match="'validation'"):
        forecast_seasonal_naive(features[features["split"] != "validation"], season_length=52)


def test_evaluate_baselines_by_hand():
    predictions = pd.DataFrame(
        {
            "split": ["validation", "validation", "test", "test"],
            "weekly_sales": [10.0, 20.0, 30.0, 40.0],
            "prediction": [12.0, 20.0, 30.0, 36.0],
            "is_holiday": [False, True, True, False],
        }
    )
    report = evaluate_baselines(predictions)
    assert report == {
        "seasonal_naive": {
            # errors 2, 0; weights 1, 5
            "validation": pytest.approx({"wmae": 2 / 6, "mae": 1.0, "rmse": np.sqrt(2.0)}),
            # errors 0, 4; weights 5, 1
            "test": pytest.approx({"wmae": 4 / 6, "mae": 2.0, "rmse": np.sqrt(8.0)}),
        }
    }


def test_evaluate_baselines_refuses_nan_forecasts():
    predictions = forecast_seasonal_naive(tiny_features(), season_length=52)
    predictions.loc[0, "prediction"] = np.nan
    with pytest.raises(ValueError, match="'prediction' has 1 NaN"):
        evaluate_baselines(predictions)


def test_format_validation_metrics_keeps_validation_only():
    metrics = {"seasonal_naive": {"validation": {"wmae": 1.0, "mae": 2.0}, "test": {"wmae": 9.0}}}
    assert format_validation_metrics(metrics) == {
        "seasonal_naive.wmae": {"value": 1.0, "step": 0},
        "seasonal_naive.mae": {"value": 2.0, "step": 0},
    }
