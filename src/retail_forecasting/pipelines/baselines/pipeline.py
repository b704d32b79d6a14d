"""Baselines: backtest on rolling origins, forecast the test window, score."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.baselines import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.backtest_baselines,
                ["feat_panel", "params:horizon_weeks", "params:backtest", "params:baselines"],
                "mo_baseline_backtest",
                name="backtest_baselines",
            ),
            Node(
                nodes.forecast_test_window,
                ["feat_panel", "params:horizon_weeks", "params:baselines"],
                "mo_baseline_test_forecasts",
                name="forecast_baselines_test_window",
            ),
            Node(
                nodes.score_baselines,
                ["mo_baseline_backtest", "feat_panel", "params:horizon_weeks", "params:backtest"],
                [
                    "rpt_baseline_backtest_scores",
                    "rpt_baseline_summary",
                    "rpt_baseline_mlflow_metrics",
                ],
                name="score_baselines",
            ),
        ]
    )
