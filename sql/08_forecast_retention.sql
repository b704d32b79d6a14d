-- Retention of retailds.fact_forecast_weekly (issue #14, docs/monitoring.md "Retention"): run by
-- retail_forecasting.monitoring.store.write_table right after 06_upsert_forecasts_from_staging.sql,
-- in the same transaction, when the catalog entry sets `retention_weeks` (:keep_days = 7 x it).
-- Keeps the origins of the last `retention_weeks` weeks, counted back from the newest origin in
-- the table (not from today: a paused cycle loses nothing); older origins' rows are deleted.
-- monitoring_check keeps every week (about 70 rows a week).

DELETE FROM retailds.fact_forecast_weekly
WHERE origin_date <= (SELECT MAX(origin_date) FROM retailds.fact_forecast_weekly) - CAST(:keep_days AS INTEGER);
