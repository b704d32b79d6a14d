"""The weekly forecast cycle (issue #14): forecasts in the warehouse, the rolling re-forecast,
accuracy and drift monitoring, alerts and the planner's report.

- :mod:`.store`: the warehouse side (``retailds.fact_forecast_weekly``,
  ``retailds.monitoring_check``, ``retailds.vw_forecast_vs_actual``; ``sql/05..07``), on DuckDB
  and PostgreSQL alike, through the shared staging/transaction helpers of
  :mod:`retail_forecasting.warehouse`.
- :mod:`.rolling`: the future rows and the rolling forecast of a registered model whose history
  is refreshed with :meth:`~retail_forecasting.forecasting.champion.ChampionForecaster.update`.
- :mod:`.checks`: pure functions: the backtest's promise per step, scores of stored forecasts,
  drift checks, the alert decision (:func:`.checks.evaluate`, shared by the Kedro nodes and the
  Lambda handler ``infra/lambdas/monitoring_check.py``).
- :mod:`.report`: figures and the self-contained HTML planner's report.
- :mod:`.alerts`: the alerts file and the exit code of ``kedro run`` when a threshold is crossed.
"""
