"""Node of the ``forecast`` pipeline: thin over :mod:`retail_forecasting.monitoring.rolling`."""

from __future__ import annotations

from typing import Any

import pandas as pd

from retail_forecasting.monitoring.rolling import ForecastParams, rolling_forecast


def forecast_from_warehouse(
    model: Any,
    sales: pd.DataFrame,
    store_features: pd.DataFrame,
    load_report: dict[str, Any],
    params: ForecastParams,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The registered model re-forecasts from the newest warehouse week, parameters unchanged;
    ``sales`` are the warehouse's recent weeks (``fc_recent_sales``: the last year is enough to
    refresh the history and find the active series).
    ``load_report`` (the ingestion's verified load) only orders this node after a load in the
    same run."""
    frame, summary = rolling_forecast(model, sales, store_features, params)
    return frame, {**summary, "warehouse_load": load_report.get("actual")}
