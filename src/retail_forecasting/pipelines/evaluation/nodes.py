"""Nodes of the ``evaluation`` pipeline: the champion chosen on the backtest, every model scored
on the test window by the same engine (:func:`retail_forecasting.forecasting.backtest.score`).
"""

from __future__ import annotations

import logging
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from retail_forecasting.forecasting.backtest import KEY_COLUMNS, overall, score  # noqa: E402
from retail_forecasting.metrics import to_mlflow_metrics  # noqa: E402

logger = logging.getLogger(__name__)

KEYS = ["store", "dept", "date"]
SALES_UNIT = 1e6  # figures show millions of USD


def assemble_test_forecasts(baseline_forecasts: pd.DataFrame, *learner_forecasts: pd.DataFrame) -> pd.DataFrame:
    """One row per test (store, dept, date) with every model's forecast; every model must cover
    exactly the same rows (a missing or extra row is an error, not a silent subset)."""
    frame = baseline_forecasts
    for forecasts in learner_forecasts:
        merged = frame.merge(forecasts, on=KEYS, how="outer", validate="one_to_one", indicator=True)
        unmatched = merged["_merge"] != "both"
        if unmatched.any():
            counts = merged.loc[unmatched, "_merge"].value_counts().to_dict()
            raise ValueError(f"models do not cover the same test rows: {counts}")
        frame = merged.drop(columns="_merge")
    return frame.sort_values(KEYS, ignore_index=True)


def select_champion(baseline_summary: dict[str, Any], *learner_summaries: dict[str, Any]) -> dict[str, Any]:
    """The original project's rule, on the backtest (never on the test window): the best learner
    (lowest backtest WMAE) is champion only if it beats the best baseline on both WMAE and RMSE;
    otherwise the best baseline is."""
    baselines = baseline_summary["models"]
    best_baseline = baseline_summary["best_baseline"]
    learners = {name: m for summary in learner_summaries for name, m in summary.items()}
    best_learner = min(learners, key=lambda name: learners[name]["wmae"]) if learners else None
    reference = baselines[best_baseline]
    beats = best_learner is not None and all(
        learners[best_learner][metric] < reference[metric] for metric in ("wmae", "rmse")
    )
    champion = best_learner if beats else best_baseline
    decision = {
        "champion": champion,
        "best_baseline": best_baseline,
        "best_learner": best_learner,
        "learner_beats_baseline": bool(beats),
        "backtest": {**{n: baselines[n] for n in baselines}, **learners},
    }
    if beats:
        logger.info("Champion %s: beats %s on backtest WMAE and RMSE", champion, best_baseline)
    else:
        logger.warning(
            "Champion is the baseline %s: the best learner %s does not beat it on both backtest "
            "WMAE and RMSE", best_baseline, best_learner,
        )
    return decision


def evaluate_test_window(
    mo_test_forecasts: pd.DataFrame, champion: dict[str, Any], horizon_weeks: int
) -> tuple[dict[str, Any], pd.DataFrame, dict]:
    """Score every model on every row of the test window, overall and by segment.

    Returns ``metrics.json`` (``horizon_weeks``, ``test_start``, ``test_end``, ``champion``,
    ``models: {name: {wmae, mae, rmse}}`` — the champion also listed as ``champion``), the
    segmented report table and the metrics in MLflow's format.
    """
    start, end = mo_test_forecasts["date"].min(), mo_test_forecasts["date"].max()
    span = (end - start).days // 7 + 1
    if span > horizon_weeks:
        raise ValueError(f"the test window spans {span} weeks, more than horizon_weeks={horizon_weeks}")
    models = [c for c in mo_test_forecasts.columns if c not in KEY_COLUMNS]
    scores = score(mo_test_forecasts, models)
    totals = {name: {k: v for k, v in m.items() if k != "n"} for name, m in overall(scores).items()}
    totals["champion"] = dict(totals[champion["champion"]])
    metrics = {
        "horizon_weeks": int(horizon_weeks),
        "test_start": f"{start:%Y-%m-%d}",
        "test_end": f"{end:%Y-%m-%d}",
        "champion": champion["champion"],
        "models": totals,
    }
    logger.info(
        "Test window %s..%s: champion %s WMAE %.1f",
        metrics["test_start"], metrics["test_end"], champion["champion"], totals["champion"]["wmae"],
    )
    return metrics, scores, to_mlflow_metrics({"test": totals})


def plot_test_forecast(mo_test_forecasts: pd.DataFrame, champion: dict[str, Any]) -> Figure:
    """Total weekly sales over the test window: actual, the best baseline and the champion."""
    shown = list(dict.fromkeys([champion["best_baseline"], champion["champion"], champion["best_learner"]]))
    shown = [m for m in shown if m]
    totals = mo_test_forecasts.groupby("date")[["actual", *shown]].sum() / SALES_UNIT
    holidays = sorted(mo_test_forecasts.loc[mo_test_forecasts["is_holiday"], "date"].unique())

    fig, ax = plt.subplots(figsize=(11, 5))
    ax.plot(totals.index, totals["actual"], color="black", linewidth=2, label="Actual")
    for style, model in zip(("--", "-.", ":"), shown, strict=False):
        suffix = " (champion)" if model == champion["champion"] else ""
        ax.plot(totals.index, totals[model], linestyle=style, label=f"{model}{suffix}")
    for i, holiday in enumerate(holidays):
        ax.axvline(holiday, color="grey", linestyle=":", label="Holiday week" if i == 0 else None)
    ax.set_title("Total weekly sales over the test window: actual vs forecasts")
    ax.set_xlabel("Week ending (Friday)")
    ax.set_ylabel("Total weekly sales (million USD)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
