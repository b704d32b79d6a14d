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
    BacktestDesign,
    BacktestParams,
    backtest_weeks,
    cross_validation,
    design_backtest,
    mlflow_metrics,
    overall,
    score,
)
from retail_forecasting.forecasting.baselines import BaselineParams, make_baselines
from retail_forecasting.forecasting.features import origin_before

logger = logging.getLogger(__name__)


def _design(
    feat_panel: pd.DataFrame, horizon_weeks: int, backtest: BacktestParams
) -> tuple[BacktestDesign, pd.DatetimeIndex]:
    weeks = backtest_weeks(feat_panel.loc[feat_panel["split"] != "test", "date"])
    return design_backtest(len(weeks), horizon_weeks, backtest), weeks


def backtest_baselines(
    feat_panel: pd.DataFrame, horizon_weeks: int, backtest: BacktestParams, params: BaselineParams
) -> pd.DataFrame:
    """Rolling-origin backtest of every baseline on train + validation (the test window unseen),
    on the design :func:`~retail_forecasting.forecasting.backtest.design_backtest` chooses."""
    history = feat_panel[feat_panel["split"] != "test"]
    design, weeks = _design(feat_panel, horizon_weeks, backtest)
    cutoffs = design.cutoffs(weeks)
    logger.info(
        "Backtest design for a %d-week horizon (%s): cutoffs %s. Why: %s",
        horizon_weeks,
        design.kind,
        ", ".join(f"{c:%Y-%m-%d}" for c in cutoffs),
        design.reason,
    )
    return cross_validation(history, make_baselines(params), horizon_weeks, cutoffs)


def forecast_test_window(
    feat_panel: pd.DataFrame, horizon_weeks: int, params: BaselineParams
) -> pd.DataFrame:
    """Every baseline's forecast of the test window from the last validation week."""
    cutoff = origin_before(feat_panel, "test")
    return cross_validation(feat_panel, make_baselines(params), horizon_weeks, [cutoff])


def score_baselines(
    mo_baseline_backtest: pd.DataFrame,
    feat_panel: pd.DataFrame | None = None,
    horizon_weeks: int | None = None,
    backtest: BacktestParams | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], dict]:
    """Backtest metrics per model, fold and segment (table), the summary with the best
    baseline and, given the panel, horizon and parameters the backtest was made with (as the
    pipeline does), the backtest design (JSON; the evaluation copies it into ``metrics.json``),
    and the aggregated metrics in MLflow's format. The design is also logged as MLflow
    parameters ``backtest_design.*`` when a run is active."""
    scores = score(mo_baseline_backtest)
    models = overall(scores)
    best = min(models, key=lambda name: models[name]["wmae"])
    summary = {
        "cutoffs": sorted(mo_baseline_backtest["cutoff"].dt.strftime("%Y-%m-%d").unique().tolist()),
        "best_baseline": best,
        "models": models,
    }
    if feat_panel is not None and horizon_weeks is not None and backtest is not None:
        design, weeks = _design(feat_panel, horizon_weeks, backtest)
        summary["backtest_design"] = design.as_dict(weeks)
        if summary["backtest_design"]["cutoffs"] != summary["cutoffs"]:
            raise ValueError(
                "the baselines' backtest was not made on the backtest design's cutoffs"
            )
        _log_design(summary["backtest_design"])
    logger.info("Baseline backtest: best %s (WMAE %.1f)", best, models[best]["wmae"])
    return scores, summary, mlflow_metrics(scores)


def _log_design(design: dict[str, Any]) -> None:
    """The design as MLflow parameters of the active run (kedro-mlflow's), if there is one."""
    import mlflow

    if mlflow.active_run() is None:
        return
    mlflow.log_params(
        {
            f"backtest_design.{k}": ",".join(map(str, v)) if isinstance(v, list) else v
            for k, v in design.items()
        }
    )
