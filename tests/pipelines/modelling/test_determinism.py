"""Same inputs + parameters -> the same outputs, on an idle or a busy machine.

Two small runs of baselines -> modelling (every model of the zoo, boosters on 2 threads) ->
champion and test metrics, the second one with a clock that jumps an hour at every reading (as
a loaded machine would look to the tuning): ``metrics.json``, the ensemble weights, every
backtest and every test forecast must be bit-identical.
"""

from __future__ import annotations

import pandas as pd
from kedro.io import DataCatalog

from retail_forecasting.forecasting import learners, tuning, zoo
from retail_forecasting.forecasting.backtest import BacktestParams
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.ensemble import EnsembleParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import LearnerParams
from retail_forecasting.pipelines.feature_engineering.nodes import build_model_input

from .conftest import champion_pipeline, run_node_by_node

ZOO = zoo.names()
CANDIDATES = (*ZOO, "ensemble")
BOOSTER = {
    "rounds": 25,
    "threads": 2,
    "target": "residual",
    "max_candidates": 3,
    "time_budget_seconds": 1e9,
}
PARAMS = {
    "svd_decomposition": DecompositionParams(
        search_space={"svd_rank": [2, 0], "recent_weeks": [0, 26]}  # as in conf/base (issue #11)
    ),
    "ridge": LearnerParams(
        kind="ridge", search_space={"alpha": [1.0, 10.0]}, time_budget_seconds=1e9
    ),
    "lightgbm": LearnerParams(
        kind="lightgbm",
        **BOOSTER,
        hyperparameters={
            "min_data_in_leaf": 5,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "feature_fraction": 0.8,
        },
        search_space={"num_leaves": [7, 15, 31], "learning_rate": [0.3, 0.1]},
    ),
    "catboost": LearnerParams(
        kind="catboost",
        **BOOSTER,
        hyperparameters={"loss_function": "MAE"},
        search_space={"depth": [4, 3], "learning_rate": [0.3, 0.1]},
    ),
    "xgboost": LearnerParams(
        kind="xgboost",
        **BOOSTER,
        hyperparameters={"subsample": 0.8, "colsample_bytree": 0.8},
        search_space={"max_depth": [4, 3], "learning_rate": [0.3, 0.1]},
    ),
}


class _BusyClock:
    """Stands in for the ``time`` module in the tuning: every reading is an hour later."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 3600.0
        return self.now


def _run(feat_panel: pd.DataFrame, horizon_weeks: int) -> DataCatalog:
    features = FeatureParams()
    forecast = build_model_input(feat_panel, horizon_weeks, features)
    inputs = {
        "feat_panel": feat_panel,
        "mi_forecast_frame": forecast,
        "params:horizon_weeks": horizon_weeks,
        "params:backtest": BacktestParams(n_windows=2, step_weeks=10),
        "params:baselines": BaselineParams(),
        "params:feature_engineering": features,
        **{f"params:modelling.{m}": p for m, p in PARAMS.items()},
        "params:modelling.ensemble": EnsembleParams(max_rows=500),
    }
    return run_node_by_node(champion_pipeline(ZOO), inputs)


def test_two_runs_idle_and_busy_give_bit_identical_results(feat_panel, horizon_weeks, monkeypatch):
    idle = _run(feat_panel, horizon_weeks)
    monkeypatch.setattr(learners, "time", _BusyClock())
    busy = _run(feat_panel, horizon_weeks)

    metrics = idle.load("rpt_metrics")
    assert metrics == busy.load("rpt_metrics")  # exact float equality, every model
    assert set(metrics["models"]) >= {*CANDIDATES, "champion"}
    assert idle.load("ensemble.mo_weights") == busy.load("ensemble.mo_weights")
    assert idle.load("rpt_champion") == busy.load("rpt_champion")
    pd.testing.assert_frame_equal(
        idle.load("mo_test_forecasts"), busy.load("mo_test_forecasts"), check_exact=True
    )
    for model in CANDIDATES:
        pd.testing.assert_frame_equal(
            idle.load(f"{model}.mo_backtest"), busy.load(f"{model}.mo_backtest"), check_exact=True
        )
    for model in learners.MODELS:
        first, second = idle.load(f"{model}.mdl_tuning"), busy.load(f"{model}.mdl_tuning")
        assert (first["hyperparameters"], first["rounds"]) == (
            second["hyperparameters"],
            second["rounds"],
        )
        assert (
            len(first["candidates"])
            == len(second["candidates"])
            == len(
                tuning.candidates(
                    PARAMS[model].search_space, PARAMS[model].max_candidates, PARAMS[model].seed
                )
            )
        )
        # the busy clock really was in force: the second run's candidates each "took" an hour
        assert {c["seconds"] for c in second["candidates"]} == {3600.0}
