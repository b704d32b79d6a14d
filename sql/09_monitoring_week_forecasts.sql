-- Monitoring (issue #14): every stored forecast of the newest week of actuals, whatever its
-- origin and step (at most horizon x series rows): what the week's checks read. Read by the
-- catalog's mon_week_forecasts and by retail_forecasting.monitoring.service (the Lambda).
SELECT *
FROM retailds.vw_forecast_vs_actual
WHERE actual IS NOT NULL
  AND date = (SELECT MAX(week_date) FROM retailds.fact_sales_weekly)
ORDER BY model_version, origin, store, dept
