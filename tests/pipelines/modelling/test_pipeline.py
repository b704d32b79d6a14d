"""The modelling pipeline on an in-memory catalog (a small LightGBM for speed)."""

import numpy as np

from retail_forecasting.forecasting.backtest import BacktestParams
from retail_forecasting.forecasting.features import FeatureParams
from retail_forecasting.forecasting.learners import LightGBMParams
from retail_forecasting.pipelines.feature_engineering.nodes import build_model_input
from retail_forecasting.pipelines.modelling import create_pipeline
from retail_forecasting.pipelines.modelling.nodes import ModellingParams

SMALL = ModellingParams(
    lightgbm=LightGBMParams(num_boost_round=30, booster={"num_threads": 1, "seed": 1, "verbosity": -1,
                                                         "min_data_in_leaf": 5, "deterministic": True})
)


def test_backtest_fit_and_forecast(feat_panel, run_pipeline, horizon_weeks):
    features = FeatureParams()
    training, forecast = build_model_input(feat_panel, horizon_weeks, features)
    catalog = run_pipeline(
        create_pipeline(),
        {
            "feat_panel": feat_panel,
            "mi_training_frame": training,
            "mi_forecast_frame": forecast,
            "params:horizon_weeks": horizon_weeks,
            "params:backtest": BacktestParams(n_windows=2, step_weeks=10),
            "params:feature_engineering": features,
            "params:modelling": SMALL,
        },
    )
    backtest = catalog.load("mo_lightgbm_backtest")
    assert backtest["cutoff"].nunique() == 2 and not backtest["lightgbm"].isna().any()
    summary = catalog.load("rpt_lightgbm_backtest_summary")
    assert summary["lightgbm"]["n"] == len(backtest)
    test = catalog.load("mo_lightgbm_test_forecasts")
    assert len(test) == (feat_panel["split"] == "test").sum()
    # the fixture series are level * season: the model must beat a constant guess
    actual = feat_panel.loc[feat_panel["split"] == "test"].set_index(["store", "dept", "date"])["weekly_sales"]
    predicted = test.set_index(["store", "dept", "date"])["lightgbm"].reindex(actual.index)
    assert np.abs(predicted - actual).mean() < np.abs(actual - actual.mean()).mean()
    model = catalog.load("mdl_lightgbm")
    assert model.num_trees() == 30
