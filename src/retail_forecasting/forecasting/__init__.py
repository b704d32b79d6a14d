"""The forecasting engine shared by every pipeline after ingestion.

- :mod:`.contract` — the long panel frame that is the contract between pipelines, with each
  covariate tagged known-in-advance or observed, the missing-week policy, and the
  :class:`Forecaster` protocol every model satisfies.
- :mod:`.history` — what is known at a forecast origin: the target history up to the cutoff
  as a dense (series x week) matrix, built from rows dated at or before the cutoff only.
- :mod:`.features` — calendar, holiday, seasonal-lag, origin-level and covariate features.
- :mod:`.baselines` — naive, seasonal naive, holiday-aligned seasonal naive, moving average,
  seasonal average and a hybrid, with one documented fallback chain.
- :mod:`.backtest` — rolling-origin cross-validation and segment metrics.
- :mod:`.decomposition` — the statistical model ``svd_decomposition`` (denoised seasonal
  profile and level) and its tuning.
- :mod:`.learners` — the learners (ridge, LightGBM, CatBoost, XGBoost) as a table of fit/predict
  pairs with what each needs (:data:`~.learners.REGISTRY`, not to be confused with the MLflow
  model registry of :mod:`retail_forecasting.model_registry`), refit at each cutoff, and their
  tuning on one validation cutoff.
- :mod:`.zoo` — the one list of the models (the statistical model, then the learners of the
  registry), from which the pipelines, the evaluation and the champion's pip requirements are
  derived.
- :mod:`.tuning` — the search grid's points and the seeded subset of them a model tries.
- :mod:`.ensemble` — WMAE-optimal non-negative weights summing to 1, cross-fitted backtest.
- :mod:`.intervals` — prediction intervals: scaled-residual quantiles calibrated on the backtest.
- :mod:`.champion` — the champion bundled with its history, forecasting raw-shaped rows.

Every forecast, baseline or learned, is made by :func:`.backtest.cross_validation` from a
cutoff: the forecaster receives the history up to the cutoff and the rows to forecast without
their target, so it cannot see the weeks it predicts.

The names in ``__all__`` are the engine's public API, importable from here
(``from retail_forecasting.forecasting import History, cross_validation``). They are loaded on
first use, so importing :mod:`.contract` alone does not import LightGBM, CatBoost and XGBoost.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module that defines it
_API = {
    # contract
    "ID_COLUMNS": "contract",
    "KEYS": "contract",
    "PANEL_COLUMNS": "contract",
    "TARGET": "contract",
    "TIME_COLUMN": "contract",
    "CovariateRoles": "contract",
    "Forecaster": "contract",
    "build_panel": "contract",
    # history and features
    "History": "history",
    "FeatureParams": "features",
    "feature_columns": "features",
    "forecast_frame": "features",
    "make_features": "features",
    "training_frame": "features",
    # models
    "BaselineParams": "baselines",
    "make_baselines": "baselines",
    "DecompositionParams": "decomposition",
    "REGISTRY": "learners",
    "FittedLearner": "learners",
    "LearnerParams": "learners",
    "fit_learner": "learners",
    "ModelSpec": "zoo",
    "candidates": "tuning",
    "grid_points": "tuning",
    "EnsembleParams": "ensemble",
    "fit_weights": "ensemble",
    # evaluation
    "BacktestParams": "backtest",
    "cross_validation": "backtest",
    "rolling_cutoffs": "backtest",
    "score": "backtest",
    "score_column": "backtest",
    "side_by_side": "backtest",
    "IntervalModel": "intervals",
    "IntervalParams": "intervals",
    "ChampionForecaster": "champion",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
