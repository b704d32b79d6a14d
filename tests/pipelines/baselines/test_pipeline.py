"""Run the ``baselines`` pipeline on an in-memory catalog."""

from __future__ import annotations

import json

from retail_forecasting.pipelines.baselines import create_pipeline


def test_baselines_pipeline_forecasts_scores_and_formats_metrics(features, run_pipeline):
    pipeline = create_pipeline()
    assert pipeline.inputs() == {"feat_sales_features", "params:baselines.season_length"}
    catalog = run_pipeline(
        pipeline, {"feat_sales_features": features, "params:baselines.season_length": 52}
    )

    predictions = catalog.load("mo_seasonal_naive_predictions")
    windows = features[features["split"].isin(["validation", "test"])]
    assert len(predictions) == len(windows)
    assert predictions["prediction"].notna().all()

    report = catalog.load("rpt_baseline_metrics")
    assert set(report) == {"seasonal_naive"}
    assert set(report["seasonal_naive"]) == {"validation", "test"}
    for scores in report["seasonal_naive"].values():
        assert set(scores) == {"wmae", "mae", "rmse"}
        assert scores["rmse"] >= scores["mae"] > 0
    json.dumps(report)  # the JSONDataset must be able to write it

    mlflow_metrics = catalog.load("rpt_baseline_validation_mlflow_metrics")
    assert mlflow_metrics == {
        f"seasonal_naive.{name}": {"value": value, "step": 0}
        for name, value in report["seasonal_naive"]["validation"].items()
    }
