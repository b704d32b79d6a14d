"""Modelling: LightGBM backtested like the baselines, then fit for the test window."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.modelling import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.backtest_lightgbm,
                ["feat_panel", "params:horizon_weeks", "params:backtest", "params:feature_engineering",
                 "params:modelling"],
                ["mo_lightgbm_backtest", "rpt_lightgbm_backtest_summary", "rpt_lightgbm_mlflow_metrics"],
                name="backtest_lightgbm",
            ),
            Node(
                nodes.train_lightgbm,
                ["mi_training_frame", "params:feature_engineering", "params:modelling"],
                "mdl_lightgbm",
                name="train_lightgbm",
            ),
            Node(
                nodes.forecast_lightgbm,
                ["mdl_lightgbm", "mi_forecast_frame"],
                "mo_lightgbm_test_forecasts",
                name="forecast_lightgbm_test_window",
            ),
        ]
    )
