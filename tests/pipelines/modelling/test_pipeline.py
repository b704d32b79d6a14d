"""Run the ``modelling`` pipeline on an in-memory catalog (no MLflow involved)."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import yaml

from retail_forecasting.pipelines.modelling import create_pipeline

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"


def test_modelling_pipeline_trains_predicts_and_formats_metrics(features, run_pipeline):
    # the project's own parameters, with fewer rounds to stay fast
    parameters = yaml.safe_load((CONF / "parameters_modelling.yml").read_text())["modelling"]
    parameters.update(num_boost_round=100, early_stopping_rounds=10)
    pipeline = create_pipeline()
    assert pipeline.inputs() == {"feat_sales_features", "params:modelling"}
    assert pipeline.outputs() == {
        "mo_lightgbm_test_predictions",
        "rpt_lightgbm_validation_mlflow_metrics",
    }

    catalog = run_pipeline(
        pipeline, {"feat_sales_features": features, "params:modelling": parameters}
    )

    model = catalog.load("mdl_lightgbm")
    report = catalog.load("mdl_lightgbm_validation_report")
    assert isinstance(model, lgb.Booster)
    assert model.num_trees() == report["best_iteration"]

    predictions = catalog.load("mo_lightgbm_test_predictions")
    test = features[features["split"] == "test"]
    assert len(predictions) == len(test)
    assert predictions["prediction"].notna().all()
    assert set(predictions["date"]) == set(test["date"])

    assert catalog.load("rpt_lightgbm_validation_mlflow_metrics") == {
        f"lightgbm.{name}": {"value": value, "step": 0}
        for name, value in report["validation"].items()
    }
