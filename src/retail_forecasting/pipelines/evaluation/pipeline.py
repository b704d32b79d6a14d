"""Evaluation: champion by the backtest rule, every model scored on the test window, the
model-comparison table, the champion's forecast and the figures."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.evaluation import nodes
from retail_forecasting.pipelines.modelling.pipeline import ZOO

CANDIDATES = (*ZOO, "ensemble")
TREE_MODELS = ("lightgbm", "catboost", "xgboost")


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.assemble_test_forecasts,
                ["mo_baseline_test_forecasts", *(f"{m}.mo_test_forecasts" for m in CANDIDATES)],
                "mo_test_forecasts",
                name="assemble_test_forecasts",
            ),
            Node(
                nodes.select_champion,
                ["rpt_baseline_summary", *(f"{m}.rpt_backtest_summary" for m in CANDIDATES)],
                "rpt_champion",
                name="select_champion",
            ),
            Node(
                nodes.evaluate_test_window,
                ["mo_test_forecasts", "rpt_champion", "params:horizon_weeks"],
                ["rpt_metrics", "rpt_model_evaluation_report", "rpt_test_mlflow_metrics"],
                name="evaluate_test_window",
            ),
            Node(nodes.compare_models, ["rpt_champion", "rpt_metrics"], "rpt_model_comparison",
                 name="compare_models"),
            Node(nodes.extract_champion_forecasts, ["mo_test_forecasts", "rpt_champion"],
                 "rpt_champion_test_forecasts", name="extract_champion_forecasts"),
            Node(
                nodes.plot_test_forecast,
                ["mo_test_forecasts", "rpt_champion"],
                "rpt_test_forecast_figure",
                name="plot_test_forecast",
            ),
            Node(nodes.plot_sampled_series, ["mo_test_forecasts", "rpt_champion", "params:evaluation"],
                 "rpt_sampled_series_figure", name="plot_sampled_series"),
            Node(nodes.plot_error_by_step, ["rpt_model_evaluation_report", "rpt_champion"],
                 "rpt_error_by_step_figure", name="plot_error_by_step"),
            Node(nodes.plot_error_by_segment, ["rpt_model_evaluation_report", "rpt_champion"],
                 "rpt_error_by_segment_figure", name="plot_error_by_segment"),
            Node(
                nodes.plot_feature_importance,
                {"params": "params:evaluation", **{m: f"{m}.mdl_model" for m in TREE_MODELS}},
                "rpt_feature_importance_figure",
                name="plot_feature_importance",
            ),
            Node(
                nodes.package_champion,
                {"rpt_champion": "rpt_champion", "feat_panel": "feat_panel", "horizon_weeks": "params:horizon_weeks",
                 "features": "params:feature_engineering", "baselines": "params:baselines",
                 "ensemble_weights": "ensemble.mo_weights", **{m: f"{m}.mdl_model" for m in ZOO}},
                "rpt_champion_model",
                name="package_champion",
            ),
        ]
    )
