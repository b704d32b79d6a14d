"""Nodes of the ``evaluation`` pipeline: every model scored on the same test window.

The test window is every (store, dept, date) row of the ``test`` split. Each model must
forecast all of them: a model with a missing or extra row is an error, not a silent subset.
"""

from __future__ import annotations

import logging
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from retail_forecasting.metrics import score  # noqa: E402

logger = logging.getLogger(__name__)

KEYS = ["store", "dept", "date"]
TARGET = "weekly_sales"
SALES_UNIT = 1e6  # figures show millions of USD


def _test_window(
    seasonal_naive_predictions: pd.DataFrame, lightgbm_predictions: pd.DataFrame
) -> pd.DataFrame:
    """One row per test (store, dept, date): actual, holiday flag, one column per model."""
    reference = seasonal_naive_predictions.loc[seasonal_naive_predictions["split"] == "test"]
    if reference.empty:
        raise ValueError("mo_seasonal_naive_predictions has no 'test' rows")
    window = reference[[*KEYS, "is_holiday", TARGET, "prediction"]].rename(
        columns={"prediction": "seasonal_naive"}
    )
    merged = window.merge(
        lightgbm_predictions[[*KEYS, "prediction"]].rename(columns={"prediction": "lightgbm"}),
        on=KEYS,
        how="outer",
        validate="one_to_one",
        indicator=True,
    )
    unmatched = merged["_merge"] != "both"
    if unmatched.any():
        counts = merged.loc[unmatched, "_merge"].value_counts().to_dict()
        raise ValueError(
            "Models do not cover the same test rows (left_only = seasonal naive only, "
            f"right_only = lightgbm only): {counts}"
        )
    return merged.drop(columns="_merge").sort_values(KEYS, ignore_index=True)


def evaluate_test_window(
    seasonal_naive_predictions: pd.DataFrame,
    lightgbm_predictions: pd.DataFrame,
    horizon_weeks: int,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Score every model on every row of the test window and pick the champion.

    The champion is, for now, the model with the lowest test WMAE.

    Args:
        seasonal_naive_predictions: ``mo_seasonal_naive_predictions`` (validation and test).
        lightgbm_predictions: ``mo_lightgbm_test_predictions``.
        horizon_weeks: Forecast horizon in weeks (length of the test window).

    Returns:
        ``rpt_metrics``: ``{"horizon_weeks", "test_start", "test_end", "champion", "models":
        {name: {"wmae", "mae", "rmse"}}}``, and the same scores as a table, one row per model.

    Raises:
        ValueError: If the models do not forecast the same rows, a prediction is NaN, or the
            test window spans more than ``horizon_weeks`` weeks.
    """
    window = _test_window(seasonal_naive_predictions, lightgbm_predictions)
    test_start, test_end = window["date"].min(), window["date"].max()
    span_weeks = (test_end - test_start).days // 7 + 1
    if span_weeks > horizon_weeks:
        raise ValueError(
            f"The test window spans {span_weeks} weeks ({test_start:%Y-%m-%d} to "
            f"{test_end:%Y-%m-%d}), more than horizon_weeks={horizon_weeks}"
        )
    if span_weeks < horizon_weeks:
        logger.warning("The test window spans %d < %d weeks", span_weeks, horizon_weeks)

    models = {name: score(window, pred_col=name) for name in ("seasonal_naive", "lightgbm")}
    champion = min(models, key=lambda name: models[name]["wmae"])
    metrics = {
        "horizon_weeks": int(horizon_weeks),
        "test_start": f"{test_start:%Y-%m-%d}",
        "test_end": f"{test_end:%Y-%m-%d}",
        "champion": champion,
        "models": models,
    }
    report = pd.DataFrame(
        [
            {
                "model": name,
                **scores,
                "n_rows": len(window),
                "test_start": metrics["test_start"],
                "test_end": metrics["test_end"],
                "is_champion": name == champion,
            }
            for name, scores in models.items()
        ]
    ).sort_values("wmae", ignore_index=True)
    logger.info("Test window %s to %s: champion %s, %s", test_start, test_end, champion, models)
    return metrics, report


def plot_test_forecast(
    seasonal_naive_predictions: pd.DataFrame, lightgbm_predictions: pd.DataFrame
) -> Figure:
    """Plot total weekly sales over the test window: actual and each model's forecast.

    Holiday weeks are marked with dotted vertical lines.
    """
    window = _test_window(seasonal_naive_predictions, lightgbm_predictions)
    totals = window.groupby("date")[[TARGET, "seasonal_naive", "lightgbm"]].sum() / SALES_UNIT
    holidays = window.loc[window["is_holiday"], "date"].unique()

    fig, ax = plt.subplots(figsize=(11, 5))
    ax.plot(totals.index, totals[TARGET], color="black", linewidth=2, label="Actual")
    ax.plot(totals.index, totals["seasonal_naive"], linestyle="--", label="Seasonal naive")
    ax.plot(totals.index, totals["lightgbm"], linestyle="-.", label="LightGBM")
    for i, holiday in enumerate(sorted(holidays)):
        ax.axvline(holiday, color="grey", linestyle=":", label="Holiday week" if i == 0 else None)
    ax.set_title("Total weekly sales over the test window: actual vs forecasts")
    ax.set_xlabel("Week ending (Friday)")
    ax.set_ylabel("Total weekly sales (million USD)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
