"""Evaluation nodes: the champion rule, the coverage check and metrics.json."""

import pandas as pd
import pytest

from retail_forecasting.pipelines.evaluation.nodes import (
    assemble_test_forecasts,
    compare_models,
    evaluate_test_window,
    select_champion,
)

BASELINES = {
    "best_baseline": "seasonal_naive",
    "models": {
        "seasonal_naive": {"wmae": 100.0, "mae": 90.0, "rmse": 200.0, "n": 10},
        "naive": {"wmae": 150.0, "mae": 140.0, "rmse": 250.0, "n": 10},
    },
}


@pytest.mark.parametrize(
    ("learner", "champion"),
    [
        ({"wmae": 90.0, "mae": 80.0, "rmse": 190.0}, "lightgbm"),
        ({"wmae": 90.0, "mae": 80.0, "rmse": 210.0}, "seasonal_naive"),  # worse RMSE
        ({"wmae": 101.0, "mae": 80.0, "rmse": 150.0}, "seasonal_naive"),  # worse WMAE
    ],
)
def test_a_learner_must_beat_the_best_baseline_on_wmae_and_rmse(learner, champion):
    decision = select_champion(BASELINES, {"lightgbm": learner})
    assert decision["champion"] == champion
    assert decision["learner_beats_baseline"] == (champion == "lightgbm")


def test_the_ensemble_competes_like_any_learner():
    decision = select_champion(
        BASELINES,
        {"lightgbm": {"wmae": 95.0, "mae": 80.0, "rmse": 190.0}},
        {"ensemble": {"wmae": 92.0, "mae": 80.0, "rmse": 195.0}},
    )
    assert decision["champion"] == "ensemble" and decision["best_learner"] == "ensemble"
    assert decision["families"] == {
        "seasonal_naive": "baseline",
        "naive": "baseline",
        "lightgbm": "learner",
        "ensemble": "ensemble",
    }
    # the best learner by WMAE must beat the baseline on RMSE too, else the baseline wins
    decision = select_champion(
        BASELINES,
        {"lightgbm": {"wmae": 95.0, "mae": 80.0, "rmse": 150.0}},
        {"ensemble": {"wmae": 92.0, "mae": 80.0, "rmse": 205.0}},
    )
    assert decision["champion"] == "seasonal_naive"


def test_model_comparison_puts_backtest_and_test_side_by_side():
    decision = select_champion(BASELINES, {"lightgbm": {"wmae": 90.0, "mae": 80.0, "rmse": 190.0}})
    test = {
        "models": {
            "seasonal_naive": {"wmae": 1.0, "mae": 2.0, "rmse": 3.0},
            "naive": {"wmae": 4.0, "mae": 5.0, "rmse": 6.0},
            "lightgbm": {"wmae": 7.0, "mae": 8.0, "rmse": 9.0},
        }
    }
    table = compare_models(decision, test).set_index("model")
    assert list(table.index) == ["lightgbm", "seasonal_naive", "naive"]  # by backtest WMAE
    assert table.loc["lightgbm", "champion"] and not table.loc["naive", "champion"]
    assert table.loc["naive", "backtest_rmse"] == 250.0 and table.loc["naive", "test_rmse"] == 6.0


def test_forecasts_must_cover_the_same_rows():
    base = pd.DataFrame(
        {
            "store": [1, 1],
            "dept": [1, 1],
            "date": pd.to_datetime(["2012-01-06", "2012-01-13"]),
            "naive": [1.0, 2.0],
        }
    )
    learner = base.rename(columns={"naive": "lightgbm"}).iloc[:1]
    with pytest.raises(ValueError, match="same test rows"):
        assemble_test_forecasts(base, learner)


def test_metrics_json_covers_every_model_and_the_champion():
    frame = pd.DataFrame(
        {
            "store": [1, 1],
            "dept": [1, 1],
            "date": pd.to_datetime(["2012-01-06", "2012-01-13"]),
            "cutoff": pd.Timestamp("2011-12-30"),
            "step": [1, 2],
            "is_holiday": [False, True],
            "store_type": "A",
            "actual": [10.0, 20.0],
            "naive": [12.0, 14.0],
            "lightgbm": [10.0, 19.0],
        }
    )
    metrics, report, mlflow_metrics = evaluate_test_window(frame, {"champion": "lightgbm"}, 39)
    assert metrics["test_start"] == "2012-01-06" and metrics["test_end"] == "2012-01-13"
    assert set(metrics["models"]) == {"naive", "lightgbm", "champion"}
    assert metrics["models"]["naive"]["wmae"] == pytest.approx((2 + 5 * 6) / 6)
    assert metrics["models"]["champion"] == metrics["models"]["lightgbm"]
    assert mlflow_metrics["test.naive.mae"]["value"] == pytest.approx(4.0)
    assert {"overall", "step", "is_holiday"} <= set(report["segment"])
    with pytest.raises(ValueError, match="spans 2 weeks"):
        evaluate_test_window(frame, {"champion": "lightgbm"}, 1)
