"""The quality gate: plain-Python check and the interpreter of the definition's conditions."""

from __future__ import annotations

import pytest

from retail_forecasting.aws.quality_gate import (
    GateConfig,
    GateDecision,
    GateError,
    check_metrics,
    check_registration,
    evaluate_conditions,
    is_finite_score,
)

GATE = GateConfig(baselines=("naive", "seasonal_naive"), metrics=("wmae", "rmse"))


def metrics(champion="lightgbm", champion_wmae=90.0, naive=100.0, seasonal=95.0):
    models = {
        "naive": {"wmae": naive, "mae": 1.0, "rmse": 200.0},
        "seasonal_naive": {"wmae": seasonal, "mae": 1.0, "rmse": 190.0},
        "lightgbm": {"wmae": champion_wmae, "mae": 1.0, "rmse": 150.0},
    }
    models["champion"] = dict(models[champion])
    return {
        "horizon_weeks": 39,
        "test_start": "2012-01-06",
        "test_end": "2012-09-28",
        "champion": champion,
        "models": models,
    }


def test_learner_beating_every_baseline_passes():
    assert check_metrics(metrics(), GATE) == (True, [])


def test_baseline_champion_fails():
    passed, reasons = check_metrics(metrics(champion="seasonal_naive"), GATE)
    assert not passed and "the champion 'seasonal_naive' is a baseline" in reasons


def test_learner_worse_than_the_best_baseline_fails():
    passed, reasons = check_metrics(metrics(champion_wmae=96.0, seasonal=95.0), GATE)
    assert not passed
    assert reasons == ["champion 'lightgbm' test wmae=96 is not below seasonal_naive wmae=95"]


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
        {
            "Type": "Not",
            "Condition": {"Type": "In", "QueryValue": get("champion"), "Values": ["naive"]},
        },
        {
            "Type": "Or",
            "Conditions": [
                {"Type": "LessThan", "LeftValue": get("models.champion.wmae"), "RightValue": 0},
                {
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": get("horizon_weeks"),
                    "RightValue": {"Get": "Parameters.MinWeeks"},
                },
            ],
        },
    ]
    documents = {"Steps.e.PropertyFiles.M": metrics()}
    assert evaluate_conditions(conditions, documents, {"MinWeeks": 39})
    assert not evaluate_conditions(conditions, documents, {"MinWeeks": 40})
    with pytest.raises(GateError, match="No document"):
        evaluate_conditions(conditions, {}, {"MinWeeks": 1})


# ------------------------------------------------------------------ check_registration

RATIO_GATE = GateConfig(
    baselines=("naive", "seasonal_naive"), metrics=("wmae",), max_ratio_to_previous=1.5
)


def test_registration_passes_like_check_metrics_without_a_previous_challenger():
    decision = check_registration(metrics(), None, RATIO_GATE)
    assert decision == GateDecision(
        passed=True, notes=("no previous challenger: the ratio check does not apply",)
    )
    assert decision.status == "passed"


@pytest.mark.parametrize(
    "value", [float("inf"), float("-inf"), float("nan"), -0.5, None, "90", True]
)
def test_non_finite_or_non_numeric_champion_scores_fail(value):
    scores = metrics()
    scores["models"]["champion"]["mae"] = value
    decision = check_registration(scores, None, RATIO_GATE)
    assert not decision.passed
    assert decision.reasons == (
        f"champion 'lightgbm' test mae={value!r} is not a finite, non-negative number",
    )


def test_infinite_wmae_fails_on_finiteness_and_on_the_baselines():
    scores = metrics(champion_wmae=float("inf"))
    scores["models"]["champion"]["wmae"] = float("inf")
    decision = check_registration(scores, {"wmae": 90.0}, RATIO_GATE)
    assert not decision.passed
    assert decision.reasons[0] == (
        "champion 'lightgbm' test wmae=inf is not a finite, non-negative number"
    )
    assert "champion 'lightgbm' test wmae=inf is not below naive wmae=100" in decision.reasons


@pytest.mark.parametrize(
    ("now", "before", "passed"),
    [
        (90.0, 60.0, True),  # exactly 1.5 x
        (90.0, 59.9, False),  # just above
        (90.0, 1000.0, True),  # much better than before
        (7.2e9 / 1e8, 1.0, False),
    ],
)
def test_ratio_to_the_previous_challenger(now, before, passed):
    scores = metrics(champion_wmae=now)
    decision = check_registration(scores, {"wmae": before}, RATIO_GATE)
    assert decision.passed is passed
    if not passed:
        (reason,) = decision.reasons
        assert reason.startswith(f"champion 'lightgbm' test wmae={now:.6g} is ")
        assert reason.endswith(
            f"the previous challenger's wmae={before:.6g}, above max_ratio_to_previous=1.5"
        )


def test_ratio_check_off_or_without_comparable_previous_value():
    scores = metrics(champion_wmae=90.0)
    off = GateConfig(baselines=("naive",), max_ratio_to_previous=None)
    assert check_registration(scores, {"wmae": 1.0}, off) == GateDecision(passed=True)
    for previous in ({}, {"wmae": None}, {"wmae": float("nan")}, {"wmae": 0.0}):
        decision = check_registration(scores, previous, RATIO_GATE)
        assert decision.passed, previous
        assert "the ratio check on wmae does not apply" in decision.notes[0]


def test_missing_values_fail_the_registration_gate_instead_of_raising():
    broken = metrics()
    del broken["models"]["champion"]["rmse"]
    del broken["models"]["naive"]
    decision = check_registration(broken, None, RATIO_GATE)
    assert not decision.passed
    assert (
        "metrics.json has no value at 'models.champion.rmse' (missing 'rmse')" in decision.reasons
    )
    assert "metrics.json has no value at 'models.naive.wmae' (missing 'naive')" in decision.reasons


def test_gate_config_checks_the_ratio():
    for bad in (0.5, float("inf"), float("nan"), "2"):
        with pytest.raises(ValueError, match="max_ratio_to_previous must be a number >= 1"):
            GateConfig(baselines=("naive",), max_ratio_to_previous=bad)
    assert GateConfig.from_dict(
        {"baselines": ["naive"], "finite_metrics": ["wmae"]}
    ).finite_paths() == [("wmae", "models.champion.wmae")]


def test_is_finite_score():
    assert is_finite_score(0) and is_finite_score(1.5e300)
    import numpy as np

    assert is_finite_score(np.float64(3.0)) and is_finite_score(np.float32(3.0))
    assert not is_finite_score(np.float64("nan")) and not is_finite_score(True)
