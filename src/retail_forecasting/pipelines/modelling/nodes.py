"""Nodes of the ``modelling`` pipeline: the model zoo and the weighted ensemble.

One template (:func:`.pipeline.create_model_pipeline`) is instantiated per model of the zoo,
:func:`retail_forecasting.forecasting.zoo.models` (the statistical model, then the learners),
under its namespace: tune on one cutoff of the validation backtest, backtest the tuned model on
the baselines' rolling origins (refit at every cutoff), fit it (a learner on its sample of train
+ validation) and forecast the test window. The ensemble weights the zoo's backtest forecasts
(non-negative, summing to 1).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from retail_forecasting.forecasting import decomposition
from retail_forecasting.forecasting.backtest import (
    KEY_COLUMNS,
    BacktestParams,
    cross_validation,
    mlflow_metrics,
    overall,
    rolling_cutoffs,
    score,
    side_by_side,
)
from retail_forecasting.forecasting.contract import KEYS
from retail_forecasting.forecasting.decomposition import DecompositionParams
from retail_forecasting.forecasting.ensemble import (
    EnsembleParams,
    cross_fitted_forecasts,
    fit_weights,
)
from retail_forecasting.forecasting.features import FeatureParams, feature_columns, origin_before
from retail_forecasting.forecasting.history import History
from retail_forecasting.forecasting.learners import (
    FittedLearner,
    LearnerForecaster,
    LearnerParams,
    fit_learner,
    learner_training_frame,
    predict_frame,
    tune,
)
from retail_forecasting.progress import Progress

logger = logging.getLogger(__name__)


def _history(feat_panel: pd.DataFrame) -> pd.DataFrame:
    """Train + validation: the test window is never seen by tuning or backtests."""
    return feat_panel[feat_panel["split"] != "test"]


def _summary(
    cv: pd.DataFrame, models: list[str], stage: str = "backtest"
) -> tuple[dict[str, Any], dict]:
    scores = score(cv, models, segments=())
    return overall(scores), mlflow_metrics(scores, stage)


def tune_model(
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    backtest: BacktestParams,
    features: FeatureParams,
    model: LearnerParams,
) -> dict[str, Any]:
    """Search the model's hyperparameters at the last cutoff of the validation backtest."""
    history = _history(feat_panel)
    cutoff = rolling_cutoffs(history["date"], horizon_weeks, backtest)[-1]
    return tune(history, cutoff, horizon_weeks, features, model)


def backtest_model(
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    backtest: BacktestParams,
    features: FeatureParams,
    model: LearnerParams,
    tuning: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any], dict]:
    """Refit the tuned model at every backtest cutoff (the baselines' cutoffs), forecast each
    window; returns the backtest frame, ``{model: {wmae, mae, rmse, n}}`` and MLflow metrics."""
    history = _history(feat_panel)
    cutoffs = rolling_cutoffs(history["date"], horizon_weeks, backtest)
    forecaster = LearnerForecaster(
        features, model, horizon_weeks, tuning["hyperparameters"], tuning["rounds"]
    ).with_panel(history)
    cv = cross_validation(
        history,
        {model.kind: forecaster},
        horizon_weeks,
        cutoffs,
        observed=features.covariates.observed,
    )
    totals, logged_metrics = _summary(cv, [model.kind])
    logger.info("%s backtest: WMAE %.1f", model.kind, totals[model.kind]["wmae"])
    return cv, totals, logged_metrics


def train_model(
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    features: FeatureParams,
    model: LearnerParams,
    tuning: dict[str, Any],
) -> FittedLearner:
    """Fit the tuned model on train + validation (the test window's origin): on its sample of
    the rows (``train_fraction``, per department), features built for those rows only — the
    code path of every tuning and backtest fit, so memory grows with the sample, not the data."""
    progress = Progress(f"Refit {model.kind}", 1, logger)  # "still running" lines each minute
    history = History.from_panel(
        feat_panel, origin_before(feat_panel, "test"), observed=features.covariates.observed
    )
    rows = learner_training_frame(history, feat_panel, features, horizon_weeks, model)
    fitted = fit_learner(
        rows, feature_columns(features), model, tuning["hyperparameters"], tuning["rounds"]
    )
    progress.done(f"on {len(rows)} rows")
    return fitted


def forecast_test_window(mdl_model: FittedLearner, mi_forecast_frame: pd.DataFrame) -> pd.DataFrame:
    """The final model's forecast of every test row: store, dept, date, <model> (department by
    department on the learners' engine, if one is registered: ``kedro run --env spark``)."""
    frame = mi_forecast_frame[KEYS].reset_index(drop=True)
    frame[mdl_model.kind] = predict_frame(mdl_model, mi_forecast_frame)
    return frame


# ---------------------------------------------------------------------------- statistical models


def tune_statistical(
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    backtest: BacktestParams,
    model: DecompositionParams,
) -> dict[str, Any]:
    """Grid search of the statistical model at the last cutoff of the validation backtest."""
    history = _history(feat_panel)
    cutoff = rolling_cutoffs(history["date"], horizon_weeks, backtest)[-1]
    return decomposition.tune(history, cutoff, horizon_weeks, model)


def backtest_statistical(
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    backtest: BacktestParams,
    model: DecompositionParams,
    tuning: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any], dict]:
    """The tuned statistical model on the baselines' rolling origins."""
    history = _history(feat_panel)
    cutoffs = rolling_cutoffs(history["date"], horizon_weeks, backtest)
    forecaster = decomposition.make_forecaster(model.with_values(tuning["hyperparameters"]))
    cv = cross_validation(history, {model.kind: forecaster}, horizon_weeks, cutoffs)
    totals, logged_metrics = _summary(cv, [model.kind])
    logger.info("%s backtest: WMAE %.1f", model.kind, totals[model.kind]["wmae"])
    return cv, totals, logged_metrics


def fit_statistical(model: DecompositionParams, tuning: dict[str, Any]) -> DecompositionParams:
    """A statistical model is its tuned settings: it reads the history when it forecasts."""
    return model.with_values(tuning["hyperparameters"])


def forecast_statistical_test_window(
    mdl_model: DecompositionParams, feat_panel: pd.DataFrame, horizon_weeks: int
) -> pd.DataFrame:
    """Forecast of every test row from the last validation week (the baselines' code path; rows
    in the panel's order, as in ``mi_forecast_frame``): store, dept, date, <model>."""
    forecaster = {mdl_model.kind: decomposition.make_forecaster(mdl_model)}
    cv = cross_validation(
        feat_panel, forecaster, horizon_weeks, [origin_before(feat_panel, "test")]
    )
    return cv[[*KEYS, mdl_model.kind]]


def _model_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in KEY_COLUMNS and c not in KEYS]


def fit_ensemble(
    params: EnsembleParams, *backtests: pd.DataFrame
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any], dict]:
    """Weights on the zoo's backtest forecasts (non-negative, summing to 1, minimising the
    WMAE) and the ensemble's own backtest, cross-fitted: each fold is forecast with weights fit
    on the other folds, so the selection compares it fairly with the single models."""
    frame = side_by_side(backtests, _model_columns)
    members = [c for b in backtests for c in _model_columns(b)]
    weights = fit_weights(frame, members, params)
    cv = frame[KEY_COLUMNS].assign(ensemble=cross_fitted_forecasts(frame, members, params))
    totals, logged_metrics = _summary(cv, ["ensemble"])
    logger.info(
        "Ensemble weights %s; cross-fitted backtest WMAE %.1f", weights, totals["ensemble"]["wmae"]
    )
    return {"weights": weights}, cv, totals, logged_metrics


def forecast_ensemble_test_window(
    weights: dict[str, Any], *forecasts: pd.DataFrame
) -> pd.DataFrame:
    """The weighted sum of the zoo's test forecasts (each retrained on train + validation)."""
    frame = forecasts[0][KEYS]
    total = np.zeros(len(frame))
    for forecast in forecasts:
        if not forecast[KEYS].equals(frame):
            raise ValueError(
                "the models' test forecasts do not cover the same rows in the same order"
            )
        for column in _model_columns(forecast):
            total += weights["weights"].get(column, 0.0) * forecast[column].to_numpy(dtype=float)
    return frame.assign(ensemble=total)
