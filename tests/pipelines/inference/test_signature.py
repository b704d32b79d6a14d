"""Inference against the champion as it is registered, with its MLflow signature enforced: the
rows inference prepares (dates parsed) must pass the signature (Date as YYYY-MM-DD text)."""

from __future__ import annotations

import mlflow
import pandas as pd

from retail_forecasting.model_registry import ChampionPyfunc, signature_and_example
from retail_forecasting.pipelines.inference.nodes import forecast_test_weeks


def test_inference_rows_pass_the_registered_signature(
    tmp_path, feat_panel, seasonal_naive_champion
):
    forecaster = seasonal_naive_champion
    python_model = ChampionPyfunc(forecaster)
    signature, example = signature_and_example(python_model)
    while mlflow.active_run():  # a run left by an earlier session in this process
        mlflow.end_run()
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        experiment = mlflow.create_experiment(  # not an id from an earlier store
            "signature", artifact_location=(tmp_path / "artifacts").as_uri()
        )  # artifacts in tmp_path, not in ./mlruns of the checkout
        with mlflow.start_run(experiment_id=experiment):
            info = mlflow.pyfunc.log_model(
                name="champion",
                python_model=python_model,
                signature=signature,
                input_example=example,
                pip_requirements=["pandas"],
            )
        model = mlflow.pyfunc.load_model(info.model_uri)  # enforces the signature on predict
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(before)
    week = forecaster.forecast_weeks()[0]
    rows = pd.DataFrame(
        {
            "Store": [1, 2],
            "Dept": [1, 2],
            "Date": pd.to_datetime([week, week]),
            "IsHoliday": [False, False],
            "MarkDown1": [5.0, float("nan")],
            "forecast_basis": ["model", "model"],
        }
    )
    submission, tidy = forecast_test_weeks(model, rows)
    assert submission["Id"].tolist() == [f"1_1_{week:%Y-%m-%d}", f"2_2_{week:%Y-%m-%d}"]
    assert submission["Weekly_Sales"].notna().all()
