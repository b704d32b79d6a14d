-- Post-load step of a forecast batch (retail_forecasting.monitoring.store.write_forecasts), in
-- ONE transaction with the staging insert: insert or update the staged forecasts, then delete
-- the rows of the same (model version, origin) that the batch no longer holds, so re-running an
-- origin replaces its forecasts and never duplicates them. Other origins are never touched.

INSERT INTO retailds.fact_forecast_weekly (
    model_name, model_version, run_id, origin_date, store_id, dept_id, week_date, step, forecast,
    q0_025, q0_1, q0_5, q0_9, q0_975, forecast_basis, created_at
)
SELECT
    model_name, model_version, run_id, origin_date, store_id, dept_id, week_date, step, forecast,
    q0_025, q0_1, q0_5, q0_9, q0_975, forecast_basis, created_at
FROM retailds.stg_forecast_weekly
ON CONFLICT (model_version, origin_date, store_id, dept_id, week_date) DO UPDATE
SET model_name = EXCLUDED.model_name, run_id = EXCLUDED.run_id, step = EXCLUDED.step,
    forecast = EXCLUDED.forecast, q0_025 = EXCLUDED.q0_025, q0_1 = EXCLUDED.q0_1,
    q0_5 = EXCLUDED.q0_5, q0_9 = EXCLUDED.q0_9, q0_975 = EXCLUDED.q0_975,
    forecast_basis = EXCLUDED.forecast_basis, created_at = EXCLUDED.created_at;

DELETE FROM retailds.fact_forecast_weekly AS t
WHERE EXISTS (
    SELECT 1 FROM retailds.stg_forecast_weekly AS b
    WHERE b.model_version = t.model_version AND b.origin_date = t.origin_date
)
AND NOT EXISTS (
    SELECT 1 FROM retailds.stg_forecast_weekly AS s
    WHERE s.model_version = t.model_version AND s.origin_date = t.origin_date
      AND s.store_id = t.store_id AND s.dept_id = t.dept_id AND s.week_date = t.week_date
);

DELETE FROM retailds.stg_forecast_weekly;
