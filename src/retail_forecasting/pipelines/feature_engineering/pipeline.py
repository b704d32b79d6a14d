"""``feature_engineering`` pipeline: primary splits -> one long feature frame."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_features


def create_pipeline(**kwargs) -> Pipeline:
    """Build ``feat_sales_features`` from ``prm_train``, ``prm_validation`` and ``prm_test``."""
    return Pipeline(
        [
            Node(
                func=build_features,
                inputs=[
                    "prm_train",
                    "prm_validation",
                    "prm_test",
                    "params:horizon_weeks",
                    "params:feature_engineering",
                ],
                outputs="feat_sales_features",
                name="build_features",
            ),
        ]
    )
