"""Run the ``evaluation`` pipeline on an in-memory catalog (no MLflow involved)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from retail_forecasting.pipelines.baselines.nodes import forecast_seasonal_naive
from retail_forecasting.pipelines.evaluation import create_pipeline


def test_evaluation_pipeline_scores_both_models_on_the_test_window(
    features, horizon_weeks, window_ends, run_pipeline
):
    naive = forecast_seasonal_naive(features, season_length=52)
    test = features[features["split"] == "test"]
    # a stand-in LightGBM forecast that is always off by exactly 1
    lightgbm = test[["store", "dept", "date", "is_holiday", "weekly_sales"]].assign(
        prediction=lambda f: f["weekly_sales"] + 1.0
    )
    pipeline = create_pipeline()
    assert pipeline.inputs() == {
        "mo_seasonal_naive_predictions",
        "mo_lightgbm_test_predictions",
        "params:horizon_weeks",
    }

    catalog = run_pipeline(
        pipeline,
        {
            "mo_seasonal_naive_predictions": naive,
            "mo_lightgbm_test_predictions": lightgbm,
            "params:horizon_weeks": horizon_weeks,
        },
    )

    metrics = catalog.load("rpt_metrics")
    assert metrics["horizon_weeks"] == horizon_weeks
    assert metrics["test_start"] == f"{test['date'].min():%Y-%m-%d}"
    assert metrics["test_start"] > f"{window_ends['validation']:%Y-%m-%d}"
    assert metrics["test_end"] == f"{test['date'].max():%Y-%m-%d}"
    assert metrics["models"]["lightgbm"] == pytest.approx({"wmae": 1.0, "mae": 1.0, "rmse": 1.0})
    assert metrics["models"]["seasonal_naive"]["wmae"] > 1.0
    assert metrics["champion"] == "lightgbm"

    report = catalog.load("rpt_model_evaluation_report")
    assert report["model"].tolist() == ["lightgbm", "seasonal_naive"]
    assert (report["n_rows"] == len(test)).all()

    figure = catalog.load("rpt_test_forecast_figure")
    try:
        assert isinstance(figure, Figure)
        (ax,) = figure.axes
        assert len(ax.get_lines()[0].get_xdata()) == test["date"].nunique()
    finally:
        plt.close("all")
