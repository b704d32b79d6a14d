"""``baselines`` pipeline: seasonal naive forecast of the validation and test windows."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_baselines, forecast_seasonal_naive, format_validation_metrics


def create_pipeline(**kwargs) -> Pipeline:
    """Forecast with the seasonal naive baseline, score it, log validation metrics."""
    return Pipeline(
        [
            Node(
                func=forecast_seasonal_naive,
                inputs=["feat_sales_features", "params:baselines.season_length"],
                outputs="mo_seasonal_naive_predictions",
                name="forecast_seasonal_naive",
            ),
            Node(
                func=evaluate_baselines,
                inputs="mo_seasonal_naive_predictions",
                outputs="rpt_baseline_metrics",
                name="evaluate_baselines",
            ),
            Node(
                func=format_validation_metrics,
                inputs="rpt_baseline_metrics",
                outputs="rpt_baseline_validation_mlflow_metrics",
                name="format_baseline_validation_metrics",
            ),
        ]
    )
