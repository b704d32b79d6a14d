"""Run the ``feature_engineering`` pipeline on an in-memory catalog."""

from __future__ import annotations

import pandas as pd

from retail_forecasting.pipelines.feature_engineering import create_pipeline


def test_feature_engineering_pipeline_builds_one_long_frame(
    splits, horizon_weeks, window_ends, run_pipeline
):
    inputs = {
        **splits,
        "params:horizon_weeks": horizon_weeks,
        "params:feature_engineering": {"lags": [52]},
    }
    pipeline = create_pipeline()
    assert pipeline.inputs() == set(inputs)
    assert pipeline.outputs() == {"feat_sales_features"}

    catalog = run_pipeline(pipeline, inputs)
    features = catalog.load("feat_sales_features")

    assert len(features) == sum(len(frame) for frame in splits.values())
    assert features["split"].value_counts().to_dict() == {
        "train": len(splits["prm_train"]),
        "validation": len(splits["prm_validation"]),
        "test": len(splits["prm_test"]),
    }
    assert not features.duplicated(["store", "dept", "date"]).any()
    assert features.loc[features["split"] == "train", "date"].max() == window_ends["train"]
    # lag_52 exists exactly where the series has a row 364 days earlier
    known = set(zip(features["store"], features["dept"], features["date"]))
    expected = [
        (s, d, t - pd.Timedelta(weeks=52)) in known
        for s, d, t in zip(features["store"], features["dept"], features["date"])
    ]
    assert features["lag_52"].notna().tolist() == expected
    assert features["lag_52"].notna().sum() > 0
