"""Evaluation: champion by the backtest rule, every model scored on the test window."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.evaluation import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.assemble_test_forecasts,
                ["mo_baseline_test_forecasts", "mo_lightgbm_test_forecasts"],
                "mo_test_forecasts",
                name="assemble_test_forecasts",
            ),
            Node(
                nodes.select_champion,
                ["rpt_baseline_summary", "rpt_lightgbm_backtest_summary"],
                "rpt_champion",
                name="select_champion",
            ),
            Node(
                nodes.evaluate_test_window,
                ["mo_test_forecasts", "rpt_champion", "params:horizon_weeks"],
                ["rpt_metrics", "rpt_model_evaluation_report", "rpt_test_mlflow_metrics"],
                name="evaluate_test_window",
            ),
            Node(
                nodes.plot_test_forecast,
                ["mo_test_forecasts", "rpt_champion"],
                "rpt_test_forecast_figure",
                name="plot_test_forecast",
            ),
        ]
    )
