"""The modelling pipeline on an in-memory catalog: the namespaced zoo (the statistical model and
four learners, tiny settings for speed) and the ensemble."""

import numpy as np
import pytest

from retail_forecasting.forecasting import zoo
from retail_forecasting.forecasting.backtest import BacktestParams
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.ensemble import EnsembleParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import MODELS, LearnerParams
from retail_forecasting.pipelines.feature_engineering.nodes import build_model_input
from retail_forecasting.pipelines.modelling import create_pipeline
from retail_forecasting.pipelines.modelling.pipeline import create_model_pipeline

ZOO = zoo.names()

TINY = {
    "svd_decomposition": DecompositionParams(search_space={"svd_rank": [2, 0]}),
    "ridge": LearnerParams(kind="ridge", search_space={"alpha": [1.0, 10.0]}),
    "lightgbm": LearnerParams(
        kind="lightgbm",
        rounds=30,
        threads=1,
        hyperparameters={"min_data_in_leaf": 5, "learning_rate": 0.2},
        search_space={"num_leaves": [7, 15]},
    ),
    "catboost": LearnerParams(
        kind="catboost",
        rounds=30,
        threads=1,
        hyperparameters={"depth": 4},
        search_space={"learning_rate": [0.3]},
    ),
    "xgboost": LearnerParams(
        kind="xgboost",
        rounds=30,
        threads=1,
        hyperparameters={"max_depth": 4},
        search_space={"learning_rate": [0.3]},
    ),
}


def inputs(feat_panel, horizon_weeks):
    features = FeatureParams()
    forecast = build_model_input(feat_panel, horizon_weeks, features)
    return {
        "feat_panel": feat_panel,
        "mi_forecast_frame": forecast,
        "params:horizon_weeks": horizon_weeks,
        "params:backtest": BacktestParams(n_windows=2, step_weeks=10),
        "params:feature_engineering": features,
        **{f"params:modelling.{m}": p for m, p in TINY.items()},
        "params:modelling.ensemble": EnsembleParams(),
    }


def test_each_model_is_one_namespace_reading_shared_inputs():
    pipeline = create_pipeline()
    assert ZOO == ("svd_decomposition", *MODELS)
    assert {n.namespace for n in pipeline.nodes} == {*ZOO, "ensemble"}
    one = create_model_pipeline("lightgbm")
    assert one.inputs() == {
        "feat_panel",
        "mi_forecast_frame",
        "params:horizon_weeks",
        "params:backtest",
        "params:feature_engineering",
        "params:modelling.lightgbm",
    }
    assert {n.name for n in one.nodes} == {
        f"lightgbm.{n}"
        for n in ("tune_model", "backtest_model", "train_model", "forecast_test_window")
    }
    assert "lightgbm.mo_backtest" in one.outputs()
    statistical = create_model_pipeline("svd_decomposition")
    assert statistical.inputs() == {
        "feat_panel",
        "params:horizon_weeks",
        "params:backtest",
        "params:modelling.svd_decomposition",
    }
    assert {n.name.split(".")[1] for n in statistical.nodes} == {
        n.name.split(".")[1] for n in one.nodes
    }


def test_zoo_and_ensemble_backtest_fit_and_forecast(feat_panel, run_pipeline, horizon_weeks):
    catalog = run_pipeline(create_pipeline(), inputs(feat_panel, horizon_weeks))
    actual = feat_panel.loc[feat_panel["split"] == "test"].set_index(["store", "dept", "date"])[
        "weekly_sales"
    ]
    for model in (*ZOO, "ensemble"):
        backtest = catalog.load(f"{model}.mo_backtest")
        assert backtest["cutoff"].nunique() == 2 and not backtest[model].isna().any(), model
        summary = catalog.load(f"{model}.rpt_backtest_summary")
        assert summary[model]["n"] == len(backtest)
        test = catalog.load(f"{model}.mo_test_forecasts")
        assert len(test) == len(actual)
        predicted = test.set_index(["store", "dept", "date"])[model].reindex(actual.index)
        # the fixture series are level * season: every model must beat a constant guess
        assert np.abs(predicted - actual).mean() < np.abs(actual - actual.mean()).mean(), model
    tuning = catalog.load("lightgbm.mdl_tuning")
    assert [c["num_leaves"] for c in tuning["candidates"]] == [7, 15]
    assert tuning["hyperparameters"]["num_leaves"] in (7, 15) and 1 <= tuning["rounds"] <= 30
    statistical = catalog.load("svd_decomposition.mdl_tuning")
    assert [c["svd_rank"] for c in statistical["candidates"]] == [2, 0]
    assert (
        catalog.load("svd_decomposition.mdl_model").svd_rank
        == statistical["hyperparameters"]["svd_rank"]
    )
    weights = catalog.load("ensemble.mo_weights")["weights"]
    assert set(weights) == set(ZOO) and sum(weights.values()) == pytest.approx(1.0, abs=1e-5)
    assert min(weights.values()) >= 0
    # the ensemble's test forecast is the weighted sum of the members'
    members = {m: catalog.load(f"{m}.mo_test_forecasts")[m].to_numpy() for m in ZOO}
    expected = sum(weights[m] * members[m] for m in ZOO)
    np.testing.assert_allclose(catalog.load("ensemble.mo_test_forecasts")["ensemble"], expected)
