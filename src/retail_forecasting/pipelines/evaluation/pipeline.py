"""``evaluation`` pipeline: score every model on the test window, plot the forecasts."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_test_window, plot_test_forecast


def create_pipeline(**kwargs) -> Pipeline:
    """Compare the seasonal naive baseline and LightGBM on the test window."""
    return Pipeline(
        [
            Node(
                func=evaluate_test_window,
                inputs=[
                    "mo_seasonal_naive_predictions",
                    "mo_lightgbm_test_predictions",
                    "params:horizon_weeks",
                ],
                outputs=["rpt_metrics", "rpt_model_evaluation_report"],
                name="evaluate_test_window",
            ),
            Node(
                func=plot_test_forecast,
                inputs=["mo_seasonal_naive_predictions", "mo_lightgbm_test_predictions"],
                outputs="rpt_test_forecast_figure",
                name="plot_test_forecast",
            ),
        ]
    )
