"""The quality gate: plain-Python check and the interpreter of the definition's conditions."""

from __future__ import annotations

import pytest

from retail_forecasting.aws.quality_gate import (
    GateConfig,
    GateError,
    check_metrics,
    evaluate_conditions,
)

GATE = GateConfig(baselines=("naive", "seasonal_naive"), metrics=("wmae", "rmse"))


def metrics(champion="lightgbm", champion_wmae=90.0, naive=100.0, seasonal=95.0):
    models = {
        "naive": {"wmae": naive, "mae": 1.0, "rmse": 200.0},
        "seasonal_naive": {"wmae": seasonal, "mae": 1.0, "rmse": 190.0},
        "lightgbm": {"wmae": champion_wmae, "mae": 1.0, "rmse": 150.0},
    }
    models["champion"] = dict(models[champion])
    return {"horizon_weeks": 39, "test_start": "2012-01-06", "test_end": "2012-09-28",
            "champion": champion, "models": models}


def test_learner_beating_every_baseline_passes():
    assert check_metrics(metrics(), GATE) == (True, [])


def test_baseline_champion_fails():
    passed, reasons = check_metrics(metrics(champion="seasonal_naive"), GATE)
    assert not passed and "the champion 'seasonal_naive' is a baseline" in reasons


def test_learner_worse_than_the_best_baseline_fails():
    passed, reasons = check_metrics(metrics(champion_wmae=96.0, seasonal=95.0), GATE)
    assert not passed
    assert reasons == ["champion 'lightgbm' wmae=96.0 is not below seasonal_naive wmae=95.0"]


def test_missing_value_is_an_error_naming_the_path():
    broken = metrics()
    del broken["models"]["naive"]
    with pytest.raises(GateError, match="no value at 'models.naive.wmae'"):
        check_metrics(broken, GATE)


def test_gate_needs_baselines():
    with pytest.raises(ValueError, match="at least one baseline"):
        GateConfig(baselines=())


def test_interpreter_handles_the_condition_types():
    doc = {"Get": "Steps.e.PropertyFiles.M"}
    get = lambda path: {"Std:JsonGet": {"PropertyFile": doc, "Path": path}}  # noqa: E731
    conditions = [
        {"Type": "Not", "Condition": {"Type": "In", "QueryValue": get("champion"),
                                      "Values": ["naive"]}},
        {"Type": "Or", "Conditions": [
            {"Type": "LessThan", "LeftValue": get("models.champion.wmae"), "RightValue": 0},
            {"Type": "GreaterThanOrEqualTo", "LeftValue": get("horizon_weeks"),
             "RightValue": {"Get": "Parameters.MinWeeks"}},
        ]},
    ]
    documents = {"Steps.e.PropertyFiles.M": metrics()}
    assert evaluate_conditions(conditions, documents, {"MinWeeks": 39})
    assert not evaluate_conditions(conditions, documents, {"MinWeeks": 40})
    with pytest.raises(GateError, match="No document"):
        evaluate_conditions(conditions, {}, {"MinWeeks": 1})
