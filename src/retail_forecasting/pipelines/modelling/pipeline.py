"""``modelling`` pipeline: train one LightGBM regressor and forecast the test window."""

from kedro.pipeline import Node, Pipeline

from .nodes import format_validation_metrics, predict_lightgbm, train_lightgbm


def create_pipeline(**kwargs) -> Pipeline:
    """Train LightGBM (early stopping on validation, refit on train + validation), predict test."""
    return Pipeline(
        [
            Node(
                func=train_lightgbm,
                inputs=["feat_sales_features", "params:modelling"],
                outputs=["mdl_lightgbm_validation_report", "mdl_lightgbm"],
                name="train_lightgbm",
            ),
            Node(
                func=format_validation_metrics,
                inputs="mdl_lightgbm_validation_report",
                outputs="rpt_lightgbm_validation_mlflow_metrics",
                name="format_lightgbm_validation_metrics",
            ),
            Node(
                func=predict_lightgbm,
                inputs=["mdl_lightgbm", "feat_sales_features"],
                outputs="mo_lightgbm_test_predictions",
                name="predict_lightgbm",
            ),
        ]
    )
