"""Unit tests of the ``evaluation`` nodes."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from retail_forecasting.pipelines.evaluation.nodes import evaluate_test_window, plot_test_forecast

D1, D2, D3 = pd.Timestamp("2012-10-12"), pd.Timestamp("2012-10-19"), pd.Timestamp("2012-10-26")


def naive_predictions() -> pd.DataFrame:
    """One validation row (ignored) and three test rows of two series."""
    return pd.DataFrame(
        {
            "store": [1, 1, 1, 2],
            "dept": [1, 1, 1, 1],
            "date": [pd.Timestamp("2012-01-06"), D1, D2, D1],
            "split": ["validation", "test", "test", "test"],
            "is_holiday": [False, False, True, False],
            "weekly_sales": [999.0, 10.0, 20.0, 30.0],
            "prediction": [0.0, 14.0, 20.0, 30.0],  # test errors 4, 0, 0
            "source": "seasonal",
        }
    )


def lightgbm_predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store": [2, 1, 1],  # another row order than the baseline
            "dept": [1, 1, 1],
            "date": [D1, D1, D2],
            "is_holiday": [False, False, True],
            "weekly_sales": [30.0, 10.0, 20.0],
            "prediction": [31.0, 11.0, 18.0],  # errors 1 (store 2), 1, 2 (holiday)
        }
    )


def test_evaluate_test_window_by_hand():
    metrics, report = evaluate_test_window(naive_predictions(), lightgbm_predictions(), 2)
    # weights: 1 (store 1, D1), 5 (store 1, D2 holiday), 1 (store 2, D1) -> sum 7
    # seasonal naive: errors 4, 0, 0 -> (4*1) / 7
    assert metrics["models"]["seasonal_naive"] == pytest.approx(
        {"wmae": 4 / 7, "mae": 4 / 3, "rmse": np.sqrt(16 / 3)}
    )
    # lightgbm: (1*1 + 5*2 + 1*1) / 7 = 12/7
    assert metrics["models"]["lightgbm"] == pytest.approx(
        {"wmae": 12 / 7, "mae": 4 / 3, "rmse": np.sqrt(6 / 3)}
    )
    assert metrics["champion"] == "seasonal_naive"  # lower test WMAE
    assert list(metrics) == ["horizon_weeks", "test_start", "test_end", "champion", "models"]
    assert (metrics["horizon_weeks"], metrics["test_start"], metrics["test_end"]) == (
        2, "2012-10-12", "2012-10-19",
    )
    json.dumps(metrics)  # plain Python types only

    assert report["model"].tolist() == ["seasonal_naive", "lightgbm"]  # best first
    assert report["is_champion"].tolist() == [True, False]
    assert report["n_rows"].tolist() == [3, 3]
    assert report["wmae"].tolist() == pytest.approx([4 / 7, 12 / 7])


def test_champion_is_the_lowest_test_wmae():
    better = lightgbm_predictions().assign(prediction=lambda f: f["weekly_sales"])
    metrics, report = evaluate_test_window(naive_predictions(), better, 2)
    assert metrics["champion"] == "lightgbm"
    assert metrics["models"]["lightgbm"] == {"wmae": 0.0, "mae": 0.0, "rmse": 0.0}
    assert report.loc[report["is_champion"], "model"].tolist() == ["lightgbm"]


def test_models_must_forecast_the_same_rows():
    extra = pd.concat(
        [lightgbm_predictions(), lightgbm_predictions().head(1).assign(date=D3)], ignore_index=True
    )
    with pytest.raises(ValueError, match="right_only"):
        evaluate_test_window(naive_predictions(), extra, 3)
    with pytest.raises(ValueError, match="left_only"):
        evaluate_test_window(naive_predictions(), lightgbm_predictions().head(2), 2)


def test_a_nan_forecast_is_refused_with_the_model_name():
    broken = lightgbm_predictions()
    broken.loc[0, "prediction"] = np.nan
    with pytest.raises(ValueError, match="column 'lightgbm' has 1 NaN"):
        evaluate_test_window(naive_predictions(), broken, 2)


def test_a_test_window_longer_than_the_horizon_is_refused():
    with pytest.raises(ValueError, match="spans 2 weeks .* more than horizon_weeks=1"):
        evaluate_test_window(naive_predictions(), lightgbm_predictions(), 1)


def test_plot_test_forecast_draws_totals_per_model_and_holidays():
    figure = plot_test_forecast(naive_predictions(), lightgbm_predictions())
    try:
        assert isinstance(figure, Figure)
        (ax,) = figure.axes
        assert ax.get_title()
        assert "USD" in ax.get_ylabel() and ax.get_xlabel()
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert {"Actual", "Seasonal naive", "LightGBM", "Holiday week"} <= set(lines)
        # totals per week in million USD: actual D1 = 10 + 30, D2 = 20
        assert np.allclose(lines["Actual"].get_ydata(), [40e-6, 20e-6])
        assert np.allclose(lines["LightGBM"].get_ydata(), [42e-6, 18e-6])
        holiday_lines = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
        assert len(holiday_lines) == 1  # D2 only
    finally:
        plt.close(figure)
