"""Every horizon from 1 to 52 weeks runs with the default backtest parameters.

On a small synthetic bundle of the default shape (143 weeks from 2010-02-05, as the Kaggle
data), for each horizon in {1, 13, 26, 39, 52}: the early request check, ingestion's split rule
(test = the last ``horizon`` weeks, validation = the 39 before), the panel and the model input,
the baselines, a tiny zoo (the statistical model, ridge and a small LightGBM) with its ensemble,
the champion and ``metrics.json`` — which records the backtest design chosen for the horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.backtest import BacktestParams
from retail_forecasting.forecasting.baselines import BaselineParams
from retail_forecasting.forecasting.contract import build_panel
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.ensemble import EnsembleParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import LearnerParams
from retail_forecasting.pipelines.feature_engineering.nodes import (
    build_model_input,
    check_forecast_request,
)
from retail_forecasting.synthetic import SyntheticConfig, generate

from .conftest import champion_pipeline, run_node_by_node

VALIDATION_WEEKS, MIN_TRAIN_WEEKS = 39, 52  # conf/base/parameters_ingestion.yml
ZOO = ("svd_decomposition", "ridge", "lightgbm")
CANDIDATES = (*ZOO, "ensemble")
PARAMS = {
    "svd_decomposition": DecompositionParams(search_space={"svd_rank": [2, 0]}),
    "ridge": LearnerParams(kind="ridge", search_space={"alpha": [1.0, 10.0]}),
    "lightgbm": LearnerParams(
        kind="lightgbm",
        rounds=15,
        threads=2,
        target="residual",
        max_train_rows=5000,
        hyperparameters={"min_data_in_leaf": 10, "objective": "regression_l1"},
        search_space={"num_leaves": [7, 15]},
    ),
}
# (kind, number of windows) of the default design on 143 weeks (tests/forecasting/test_backtest.py)
EXPECTED = {
    1: ("configured", 3),
    13: ("configured", 3),
    26: ("configured", 3),
    39: ("configured", 3),
    52: ("shorter_history", 2),
}


@pytest.fixture(scope="module")
def bundle() -> dict[str, pd.DataFrame]:
    return generate(SyntheticConfig(seed=5, n_stores=3, n_depts=6))


def _panel(bundle: dict[str, pd.DataFrame], horizon: int) -> pd.DataFrame:
    """What ingestion makes of the bundle, split like ``split_chronologically``."""
    sales = bundle["train"].rename(columns=str.lower).rename(columns={"isholiday": "is_holiday"})
    features = bundle["features"].rename(columns=str.lower).drop(columns=["isholiday"])
    stores = bundle["stores"].rename(
        columns={"Store": "store", "Type": "store_type", "Size": "store_size"}
    )
    frame = sales.merge(features, on=["store", "date"], how="left").merge(stores, on="store")
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["is_holiday"] = frame["is_holiday"].astype(bool)
    weeks = np.sort(frame["date"].unique())
    test_start, validation_start = weeks[-horizon], weeks[-horizon - VALIDATION_WEEKS]
    return build_panel(
        frame[frame["date"] < validation_start],
        frame[(frame["date"] >= validation_start) & (frame["date"] < test_start)],
        frame[frame["date"] >= test_start],
    )


@pytest.mark.parametrize("horizon", sorted(EXPECTED))
def test_every_horizon_runs_with_the_default_backtest_parameters(bundle, horizon):
    backtest, features = BacktestParams(), FeatureParams()
    request = check_forecast_request(
        bundle["train"], horizon, VALIDATION_WEEKS, MIN_TRAIN_WEEKS, backtest, features
    )
    assert request["max_horizon_weeks"] == 52

    panel = _panel(bundle, horizon)
    forecast = build_model_input(panel, horizon, features)
    inputs = {
        "feat_panel": panel,
        "mi_forecast_frame": forecast,
        "params:horizon_weeks": horizon,
        "params:backtest": backtest,
        "params:baselines": BaselineParams(),
        "params:feature_engineering": features,
        "params:modelling.ensemble": EnsembleParams(max_rows=2000),
        **{f"params:modelling.{m}": p for m, p in PARAMS.items()},
    }
    catalog = run_node_by_node(champion_pipeline(ZOO), inputs)

    metrics = catalog.load("rpt_metrics")
    design = metrics["backtest_design"]
    assert (design["kind"], design["n_windows"]) == EXPECTED[horizon]
    assert design["window_weeks"] == horizon and design["reason"]
    assert {k: v for k, v in request["backtest_design"].items()} == {
        k: v for k, v in design.items() if k != "cutoffs"
    }
    test_rows = panel[panel["split"] == "test"]
    assert (
        metrics["horizon_weeks"] == horizon
        and metrics["test_end"] == f"{test_rows['date'].max():%Y-%m-%d}"
    )
    for model in (*CANDIDATES, "seasonal_naive", "champion"):
        assert all(np.isfinite(metrics["models"][model][k]) for k in ("wmae", "mae", "rmse")), model
    for model in CANDIDATES:
        cv = catalog.load(f"{model}.mo_backtest")
        assert sorted(cv["cutoff"].dt.strftime("%Y-%m-%d").unique()) == design["cutoffs"], model
        assert cv["step"].min() == 1 and cv["step"].max() == horizon, (
            "every window is a full horizon"
        )
    assert len(catalog.load("mo_test_forecasts")) == len(test_rows)
    assert catalog.load("rpt_champion")["backtest_design"] == design
