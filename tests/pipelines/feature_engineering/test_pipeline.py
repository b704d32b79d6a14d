"""The feature_engineering pipeline on an in-memory catalog."""

import pandas as pd
import pytest
from kedro.framework.project import configure_project

from retail_forecasting.forecasting.backtest import BacktestParams, HorizonRefused
from retail_forecasting.forecasting.features import FeatureParams, feature_columns
from retail_forecasting.pipelines.feature_engineering import create_pipeline
from retail_forecasting.pipelines.feature_engineering.nodes import (
    build_panel,
    check_forecast_request,
)


def raw_train(splits) -> pd.DataFrame:
    """train.csv as the raw dataset gives it (dates as text) for the fixture's weeks."""
    dates = pd.concat([s["date"] for s in splits.values()])
    return pd.DataFrame(
        {"Store": 1, "Dept": 1, "Date": dates.dt.strftime("%Y-%m-%d"), "Weekly_Sales": 1.0}
    )


def test_pipeline_builds_the_panel_and_the_model_input(splits, run_pipeline, horizon_weeks):
    params = FeatureParams()
    catalog = run_pipeline(
        create_pipeline(),
        {
            **splits,
            "params:horizon_weeks": horizon_weeks,
            "params:feature_engineering": params,
            "raw_train": raw_train(splits),
            "params:ingestion.validation_weeks": 39,
            "params:ingestion.min_train_weeks": 52,
            "params:backtest": BacktestParams(),
        },
    )
    request = catalog.load("rpt_forecast_request")
    assert (
        request["checked"]
        and request["weeks_available"] == 150
        and request["max_horizon_weeks"] == 52
    )
    panel = catalog.load("feat_panel")
    assert len(panel) == sum(len(s) for s in splits.values())
    assert panel["split"].value_counts().to_dict() == {
        k.removeprefix("prm_"): len(v) for k, v in splits.items()
    }
    forecast = catalog.load("mi_forecast_frame")
    assert list(forecast.columns[: len(feature_columns(params))]) == feature_columns(params)
    assert forecast["date"].min() == splits["prm_test"]["date"].min()
    # the learners build their training rows themselves, features for their sample only
    assert "mi_training_frame" not in create_pipeline().all_outputs()
    assert len(forecast) == len(splits["prm_test"]) and "weekly_sales" not in forecast
    assert forecast["step"].between(1, horizon_weeks).all()


def test_duplicate_rows_are_refused(splits):
    train = splits["prm_train"]
    with pytest.raises(ValueError, match="duplicate"):
        build_panel(
            pd.concat([train, train.iloc[[0]]]), splits["prm_validation"], splits["prm_test"]
        )


def test_overlapping_splits_are_refused(splits):
    with pytest.raises(ValueError, match="overlap"):
        build_panel(splits["prm_validation"], splits["prm_train"], splits["prm_test"])


def test_a_horizon_the_data_cannot_serve_is_refused_by_the_first_node_of_the_run(splits):
    raw = raw_train(splits)  # 150 weeks: 52 + 39 + 52 <= 150, 59 + 39 + 52 > 150
    args = (39, 52, BacktestParams(), FeatureParams())
    assert check_forecast_request(raw, 52, *args)["backtest_design"]["kind"] == "shorter_history"
    with pytest.raises(HorizonRefused, match="allows horizons of 1 to 52 weeks"):
        check_forecast_request(raw, 53, *args)
    with pytest.raises(HorizonRefused, match="The limit is the split"):
        check_forecast_request(raw, 20, 39, 120, BacktestParams(), FeatureParams())
    # malformed dates are left to ingestion's validation, which names the bad rows
    assert check_forecast_request(raw.drop(columns="Date"), 53, *args) == {
        "horizon_weeks": 53,
        "checked": False,
    }

    configure_project("retail_forecasting")
    from retail_forecasting.pipeline_registry import register_pipelines

    default = register_pipelines()["__default__"]
    first = default.nodes[0]
    assert first.name == "check_forecast_request", "the check runs before ingestion does any work"
    assert first.inputs == [
        "raw_train",
        "params:horizon_weeks",
        "params:ingestion.validation_weeks",
        "params:ingestion.min_train_weeks",
        "params:backtest",
        "params:feature_engineering",
    ]
