"""Feature engineering: the panel contract, then features from the test window's origin."""

from kedro.pipeline import Node, Pipeline

from retail_forecasting.pipelines.feature_engineering.nodes import build_model_input, build_panel


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(build_panel, ["prm_train", "prm_validation", "prm_test"], "feat_panel", name="build_panel"),
            Node(
                build_model_input,
                ["feat_panel", "params:horizon_weeks", "params:feature_engineering"],
                ["mi_training_frame", "mi_forecast_frame"],
                name="build_model_input",
            ),
        ]
    )
