"""Nodes of the ``monitoring`` pipeline and of the backtest promise: thin over
:mod:`retail_forecasting.monitoring` (the checks are
:func:`~retail_forecasting.monitoring.checks.evaluate`, shared with the Lambda handler)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from retail_forecasting.metrics import to_mlflow_metrics
from retail_forecasting.monitoring import alerts, checks, report
from retail_forecasting.monitoring.checks import MonitoringParams
from retail_forecasting.monitoring.store import TABLES


def summarise_backtest_promise(
    champion_backtest: pd.DataFrame, params: MonitoringParams
) -> dict[str, Any]:
    """What the champion's backtest promises per step (:func:`checks.backtest_promise`); the
    frame comes from :class:`~retail_forecasting.monitoring.store.ChampionBacktestDataset`."""
    name = champion_backtest.attrs.get("model")
    if not name:
        raise ValueError("the champion's backtest frame does not say which column is the champion")
    return checks.backtest_promise(
        champion_backtest, name, params.holiday_weight, params.total.promise_steps
    )


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    return frame.assign(
        **{c: pd.to_datetime(frame[c]).astype("datetime64[ns]") for c in columns if c in frame}
    )


def monitor(
    week_forecasts: pd.DataFrame,
    score_sums: pd.DataFrame,
    sales: pd.DataFrame,
    store_features: pd.DataFrame,
    promise: dict[str, Any],
    forecast_summary: dict[str, Any],
    params: MonitoringParams,
):
    """Every check of the newest week (``week_forecasts``: its stored forecasts) and the scores
    of every stored forecast with its actual (``score_sums``, aggregated in the warehouse); the
    checks for the warehouse and as CSV, the scores, the summary, MLflow metrics and the alerts
    file. Alerts make ``kedro run`` exit with code 3."""
    result = checks.evaluate(
        week_forecasts,
        _dates(sales, "date"),
        _dates(store_features, "date"),
        promise,
        params,
        sums=score_sums,
    )
    payload = checks.alerts_payload(result)
    alerts.signal(payload)
    logged: dict[str, float] = {"alerts": float(result.summary["alerts"])}
    for row in result.checks.itertuples():
        if (
            row.check_name in ("accuracy.week_wmae_ratio", "total.chain_deviation")
            and row.value is not None
        ):
            logged[row.check_name] = float(row.value)
    overall = result.summary.get("overall")
    if overall:
        logged["wmae_to_date"] = float(overall["wmae"])
    # the step is the week checked (YYYYMMDD), so the MLflow history plots week after week
    step = int(result.summary["as_of_week"].replace("-", ""))
    metrics = to_mlflow_metrics({"monitoring": logged}, step=step)
    forecast_summary = {**result.summary, "forecast": forecast_summary}
    table = result.checks[[c for c in TABLES["stg_monitoring_check"]]]
    return table, result.checks, result.scores, forecast_summary, metrics, payload


def plot_monitoring(
    scores: pd.DataFrame,
    checks_frame: pd.DataFrame,
    summary: dict[str, Any],
    promise: dict[str, Any],
    params: MonitoringParams,
) -> tuple[Figure, Figure]:
    """Rolling accuracy vs expectation; this week's store totals vs their latest forecast."""
    threshold = checks.accuracy_threshold(promise, params)
    return (
        report.rolling_accuracy_figure(scores, summary, threshold),
        report.store_deviation_figure(checks_frame, summary),
    )


def write_planner_report(
    sales: pd.DataFrame,
    latest: pd.DataFrame,
    scored: pd.DataFrame,
    scores: pd.DataFrame,
    checks_frame: pd.DataFrame,
    summary: dict[str, Any],
    promise: dict[str, Any],
    params: MonitoringParams,
) -> str:
    """The self-contained HTML planner's report of this run. ``scored``: past forecasts with their
    actuals, of which the report shows the latest made before each week (``mon_report_forecasts``
    holds only those)."""
    figures = report.planner_figures(
        _dates(sales, "date"),
        checks.normalise_scored(latest),
        checks.normalise_scored(scored),
        summary,
        params,
    )
    figures["rolling_accuracy"], figures["store_deviation"] = plot_monitoring(
        scores, checks_frame, summary, promise, params
    )
    return report.planner_report(summary, summary.get("forecast") or {}, checks_frame, figures)
