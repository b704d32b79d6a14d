"""Unit tests of the ``modelling`` nodes."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import yaml

from retail_forecasting.metrics import wmae
from retail_forecasting.pipelines.feature_engineering.nodes import build_features
from retail_forecasting.pipelines.modelling.nodes import (
    _dataset,
    format_validation_metrics,
    predict_lightgbm,
    train_lightgbm,
)

CONF = Path(__file__).resolve().parents[3] / "conf" / "base"
FEATURES = [
    "week_of_year",
    "month",
    "year",
    "lag_52",
    "store_type_code",
    "store_size",
    "dept",
    "is_holiday",
]


@pytest.fixture
def modelling_parameters() -> dict:
    """Small and fast, same shape as conf/base/parameters_modelling.yml."""
    return {
        "target": "weekly_sales",
        "features": list(FEATURES),
        "categorical_features": ["store_type_code", "dept"],
        "holiday_weight": 5.0,
        "num_boost_round": 200,
        "early_stopping_rounds": 10,
        "lightgbm": {
            "objective": "regression",
            "metric": "l1",
            "learning_rate": 0.2,
            "num_leaves": 7,
            "min_data_in_leaf": 5,
            "n_jobs": 1,
            "seed": 42,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        },
    }


def test_train_lightgbm_early_stops_then_refits_on_train_and_validation(
    features, modelling_parameters
):
    report, model = train_lightgbm(features, modelling_parameters)
    n_train = int((features["split"] == "train").sum())
    n_validation = int((features["split"] == "validation").sum())

    assert isinstance(model, lgb.Booster)
    assert 1 <= report["best_iteration"] < modelling_parameters["num_boost_round"]
    # the refit model has exactly the early-stopped number of trees
    assert model.num_trees() == report["best_iteration"]
    assert (report["n_train_rows"], report["n_validation_rows"]) == (n_train, n_validation)
    assert report["n_refit_rows"] == n_train + n_validation
    assert model.feature_name() == FEATURES
    assert set(report["validation"]) == {"wmae", "mae", "rmse"}
    assert report["model"] == "lightgbm"


def test_rows_are_weighted_like_the_wmae(features, modelling_parameters):
    weights = _dataset(features, modelling_parameters).get_weight()
    assert np.array_equal(weights, np.where(features["is_holiday"], 5.0, 1.0))


def test_the_returned_model_has_learned_from_the_validation_rows(features, modelling_parameters):
    # validation sales 10 000 higher than anything in train: only a model refit on
    # train + validation can forecast them; the early-stopped model never saw them
    is_validation = features["split"] == "validation"
    shifted = features.assign(
        weekly_sales=features["weekly_sales"].where(~is_validation, features["weekly_sales"] + 1e4)
    )
    report, model = train_lightgbm(shifted, modelling_parameters)
    validation = shifted[is_validation]
    fitted = model.predict(validation[FEATURES].astype({"is_holiday": "int64"}))
    # the report scores the early-stopped model: the refit one must do clearly better there
    assert np.mean(np.abs(fitted - validation["weekly_sales"])) < 0.8 * report["validation"]["mae"]


def test_train_lightgbm_beats_a_constant_forecast_on_validation(features, modelling_parameters):
    report, _ = train_lightgbm(features, modelling_parameters)
    train = features[features["split"] == "train"]
    validation = features[features["split"] == "validation"]
    constant = np.full(len(validation), train["weekly_sales"].mean())
    baseline = wmae(validation["weekly_sales"], constant, validation["is_holiday"])
    assert report["validation"]["wmae"] < 0.5 * baseline


def test_train_lightgbm_is_deterministic(features, modelling_parameters):
    first_report, first = train_lightgbm(features, modelling_parameters)
    second_report, second = train_lightgbm(features, modelling_parameters)
    assert first_report == second_report
    assert first.model_to_string() == second.model_to_string()


def test_train_lightgbm_names_a_missing_feature(features, modelling_parameters):
    modelling_parameters["features"].append("lag_104")
    with pytest.raises(ValueError, match=r"missing feature column\(s\) \['lag_104'\]"):
        train_lightgbm(features, modelling_parameters)


def test_train_lightgbm_needs_validation_rows(features, modelling_parameters):
    with pytest.raises(ValueError, match="no 'validation' rows"):
        train_lightgbm(features[features["split"] != "validation"], modelling_parameters)


def test_train_lightgbm_refuses_a_nan_target(features, modelling_parameters):
    broken = features.copy()
    broken.loc[broken.index[0], "weekly_sales"] = np.nan
    with pytest.raises(ValueError, match="'weekly_sales' has 1 NaN"):
        train_lightgbm(broken, modelling_parameters)


def test_predict_lightgbm_forecasts_every_test_row(features, modelling_parameters):
    _, model = train_lightgbm(features, modelling_parameters)
    predictions = predict_lightgbm(model, features)
    test = features[features["split"] == "test"].reset_index(drop=True)

    assert list(predictions.columns) == [
        "store", "dept", "date", "is_holiday", "weekly_sales", "prediction",
    ]
    assert predictions[["store", "dept", "date", "weekly_sales"]].equals(
        test[["store", "dept", "date", "weekly_sales"]]
    )
    assert predictions["prediction"].notna().all()
    assert predictions["prediction"].dtype == np.float64
    # the booster is applied to the features as they are: same input -> same output
    expected = model.predict(test[FEATURES].astype({"is_holiday": "int64"}))
    assert np.allclose(predictions["prediction"], expected)


def test_predict_lightgbm_does_not_read_the_target(features, modelling_parameters):
    _, model = train_lightgbm(features, modelling_parameters)
    changed = features.assign(weekly_sales=features["weekly_sales"] + 1e6)
    assert predict_lightgbm(model, features)["prediction"].equals(
        predict_lightgbm(model, changed)["prediction"]
    )


def test_predict_lightgbm_needs_test_rows(features, modelling_parameters):
    _, model = train_lightgbm(features, modelling_parameters)
    with pytest.raises(ValueError, match="no 'test' rows"):
        predict_lightgbm(model, features[features["split"] != "test"])


def test_predict_lightgbm_needs_the_model_features(features, modelling_parameters):
    _, model = train_lightgbm(features, modelling_parameters)
    with pytest.raises(ValueError, match="lag_52"):
        predict_lightgbm(model, features.drop(columns="lag_52"))


def test_format_validation_metrics():
    report = {"model": "lightgbm", "best_iteration": 3, "validation": {"wmae": 1.0, "rmse": 2.0}}
    assert format_validation_metrics(report) == {
        "lightgbm.wmae": {"value": 1.0, "step": 0},
        "lightgbm.rmse": {"value": 2.0, "step": 0},
    }


def test_modelling_parameters_name_columns_that_feature_engineering_builds(splits, horizon_weeks):
    """conf/base/parameters_modelling.yml must only name columns of feat_sales_features."""
    modelling = yaml.safe_load((CONF / "parameters_modelling.yml").read_text())["modelling"]
    engineering = yaml.safe_load((CONF / "parameters_feature_engineering.yml").read_text())
    built = build_features(*splits.values(), horizon_weeks, engineering["feature_engineering"])

    assert set(modelling["features"]) <= set(built.columns) - {"weekly_sales", "split", "date"}
    assert set(modelling["categorical_features"]) <= set(modelling["features"])
    assert modelling["lightgbm"]["n_jobs"] == 2 and modelling["lightgbm"]["deterministic"] is True
