"""The feature_engineering pipeline on an in-memory catalog."""

import pandas as pd
import pytest

from retail_forecasting.forecasting.features import FeatureParams, feature_columns
from retail_forecasting.pipelines.feature_engineering import create_pipeline
from retail_forecasting.pipelines.feature_engineering.nodes import build_panel


def test_pipeline_builds_the_panel_and_the_model_input(splits, run_pipeline, horizon_weeks):
    params = FeatureParams()
    catalog = run_pipeline(
        create_pipeline(),
        {**splits, "params:horizon_weeks": horizon_weeks, "params:feature_engineering": params},
    )
    panel = catalog.load("feat_panel")
    assert len(panel) == sum(len(s) for s in splits.values())
    assert panel["split"].value_counts().to_dict() == {k.removeprefix("prm_"): len(v) for k, v in splits.items()}
    training, forecast = catalog.load("mi_training_frame"), catalog.load("mi_forecast_frame")
    assert list(forecast.columns[: len(feature_columns(params))]) == feature_columns(params)
    assert training["date"].max() < forecast["date"].min() == splits["prm_test"]["date"].min()
    assert len(forecast) == len(splits["prm_test"]) and "weekly_sales" not in forecast
    assert forecast["step"].between(1, horizon_weeks).all()


def test_duplicate_rows_are_refused(splits):
    train = splits["prm_train"]
    with pytest.raises(ValueError, match="duplicate"):
        build_panel(pd.concat([train, train.iloc[[0]]]), splits["prm_validation"], splits["prm_test"])


def test_overlapping_splits_are_refused(splits):
    with pytest.raises(ValueError, match="overlap"):
        build_panel(splits["prm_validation"], splits["prm_train"], splits["prm_test"])
