"""Nodes of the ``baselines`` pipeline: the five baselines and the hybrid, backtested on
rolling origins inside train + validation, and forecasting the test window from its origin.

The forecasters live in :mod:`retail_forecasting.forecasting.baselines`; the backtest and the
metrics in :mod:`retail_forecasting.forecasting.backtest`.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from retail_forecasting.forecasting.backtest import (
    BacktestParams,
    cross_validation,
    mlflow_metrics,
    overall,
    rolling_cutoffs,
    score,
)
from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines
from retail_forecasting.forecasting.features import origin_before

logger = logging.getLogger(__name__)


def backtest_baselines(
    feat_panel: pd.DataFrame, horizon_weeks: int, backtest: BacktestParams, params: BaselineParams
) -> pd.DataFrame:
    """Rolling-origin backtest of every baseline on train + validation (the test window unseen)."""
    history = feat_panel[feat_panel["split"] != "test"]
    cutoffs = rolling_cutoffs(history["date"], horizon_weeks, backtest)
    return cross_validation(history, make_baselines(params), horizon_weeks, cutoffs)


def forecast_test_window(
    feat_panel: pd.DataFrame, horizon_weeks: int, params: BaselineParams
) -> pd.DataFrame:
    """Every baseline's forecast of the test window from the last validation week."""
    cutoff = origin_before(feat_panel, "test")
    return cross_validation(feat_panel, make_baselines(params), horizon_weeks, [cutoff])


def score_baselines(mo_baseline_backtest: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any], dict]:
    """Backtest metrics per model, fold and segment (table), the summary with the best
    baseline (JSON), and the aggregated metrics in MLflow's format."""
    scores = score(mo_baseline_backtest)
    models = overall(scores)
    best = min(models, key=lambda name: models[name]["wmae"])
    summary = {
        "cutoffs": sorted(mo_baseline_backtest["cutoff"].dt.strftime("%Y-%m-%d").unique().tolist()),
        "best_baseline": best,
        "models": models,
    }
    logger.info("Baseline backtest: best %s (WMAE %.1f)", best, models[best]["wmae"])
    return scores, summary, mlflow_metrics(scores)
