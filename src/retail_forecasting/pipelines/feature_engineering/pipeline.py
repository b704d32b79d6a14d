"""Feature engineering: the panel contract, then features from the test window's origin; and,
first of all, the check that the data can serve ``horizon_weeks`` (before ingestion starts)."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.feature_engineering.nodes import (
    build_model_input,
    build_panel,
    check_forecast_request,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                check_forecast_request,
                [
                    "raw_train",
                    "params:horizon_weeks",
                    "params:ingestion.validation_weeks",
                    "params:ingestion.min_train_weeks",
                    "params:backtest",
                    "params:feature_engineering",
                ],
                "rpt_forecast_request",
                name="check_forecast_request",
            ),
            Node(
                build_panel,
                ["prm_train", "prm_validation", "prm_test"],
                "feat_panel",
                name="build_panel",
            ),
            Node(
                build_model_input,
                ["feat_panel", "params:horizon_weeks", "params:feature_engineering"],
                "mi_forecast_frame",
                name="build_model_input",
            ),
        ]
    )
