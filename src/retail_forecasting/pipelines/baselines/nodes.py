"""Nodes of the ``baselines`` pipeline: reference forecasts every learner must beat.

For now one baseline, the seasonal naive forecast, scored on the validation and test windows.
"""

from __future__ import annotations

import logging

import pandas as pd

from retail_forecasting.metrics import score, to_mlflow_metrics

logger = logging.getLogger(__name__)

SERIES = ["store", "dept"]
KEYS = [*SERIES, "date"]
TARGET = "weekly_sales"
FORECAST_SPLITS = ("validation", "test")
PREDICTION_COLUMNS = [*KEYS, "split", "is_holiday", TARGET, "prediction", "source"]
SEASONAL_NAIVE = "seasonal_naive"


def _history_means(features: pd.DataFrame, origin: pd.Timestamp) -> pd.Series:
    """Mean sales per series over the weeks up to and including ``origin``."""
    history = features.loc[features["date"] <= origin]
    return history.groupby(SERIES)[TARGET].mean().rename("history_mean")


def forecast_seasonal_naive(features: pd.DataFrame, season_length: int = 52) -> pd.DataFrame:
    """Forecast each validation and test week with the series' sales one season earlier.

    The forecast of week ``t`` is the sales of the same (store, dept) at ``t - season_length``
    weeks, read from the ``lag_<season_length>`` feature. Fallbacks, in order:

    1. the week one season earlier has no row (gap, or the series is younger than a season):
       the mean sales of the series over all its weeks up to the window's origin (validation
       origin = last train week; test origin = last validation week);
    2. the series has no row before the origin at all (it starts inside the window): 0.

    The ``source`` column says which rule produced each forecast (``seasonal``, ``history_mean``
    or ``zero``).

    Args:
        features: ``feat_sales_features`` (all splits, with the ``lag_<season_length>`` column).
        season_length: Season length in weeks (52 for yearly seasonality on weekly data).

    Returns:
        One row per validation and test (store, dept, date) with ``split``, ``is_holiday``,
        the actual ``weekly_sales`` and the ``prediction``.

    Raises:
        ValueError: If the lag column is missing or the frame has no validation/test rows.
    """
    lag = f"lag_{season_length}"
    if lag not in features.columns:
        raise ValueError(
            f"feat_sales_features has no '{lag}' column: add {season_length} to "
            "feature_engineering.lags or change baselines.season_length"
        )
    origins = {
        "validation": features.loc[features["split"] == "train", "date"].max(),
        "test": features.loc[features["split"] == "validation", "date"].max(),
    }
    windows = []
    for split in FORECAST_SPLITS:
        window = features.loc[features["split"] == split]
        if window.empty or pd.isna(origins[split]):
            raise ValueError(f"Cannot forecast: no '{split}' rows or no history before them")
        window = window.join(_history_means(features, origins[split]), on=SERIES)
        seasonal = window[lag].notna()
        has_history = window["history_mean"].notna()
        window = window.assign(
            prediction=window[lag].fillna(window["history_mean"]).fillna(0.0),
            source=pd.Series("zero", index=window.index)
            .mask(has_history, "history_mean")
            .mask(seasonal, "seasonal"),
        )
        windows.append(window)
    predictions = pd.concat(windows, ignore_index=True)[PREDICTION_COLUMNS]
    logger.info(
        "Seasonal naive forecast (season %d weeks): %s",
        season_length,
        predictions.groupby(["split", "source"]).size().to_dict(),
    )
    return predictions.sort_values([*KEYS], ignore_index=True)


def evaluate_baselines(seasonal_naive_predictions: pd.DataFrame) -> dict[str, dict]:
    """Score each baseline on each forecast window.

    Returns:
        ``{model: {split: {"wmae": ..., "mae": ..., "rmse": ...}}}``.

    Raises:
        ValueError: If a window has no rows or a prediction is NaN.
    """
    report = {
        SEASONAL_NAIVE: {
            split: score(
                seasonal_naive_predictions.loc[seasonal_naive_predictions["split"] == split]
            )
            for split in FORECAST_SPLITS
        }
    }
    logger.info("Baseline metrics: %s", report)
    return report


def format_validation_metrics(baseline_metrics: dict[str, dict]) -> dict[str, dict]:
    """Keep the validation metrics of each baseline, in the MLflow metrics-history format.

    ``{"seasonal_naive": {"validation": {"wmae": 1.0}}}`` becomes
    ``{"seasonal_naive.wmae": {"value": 1.0, "step": 0}}``; the catalog's
    ``MlflowMetricsHistoryDataset`` adds the ``validation`` prefix.
    """
    return to_mlflow_metrics(
        {model: splits["validation"] for model, splits in baseline_metrics.items()}
    )
