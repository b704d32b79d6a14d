-- Post-load step of a monitoring run's checks (retail_forecasting.monitoring.store.write_checks),
-- in ONE transaction with the staging insert: the checks of a (model version, week) replace the
-- ones an earlier run of the same week wrote; other weeks are kept (the monitoring history).

DELETE FROM retailds.monitoring_check AS t
WHERE EXISTS (
    SELECT 1 FROM retailds.stg_monitoring_check AS s
    WHERE s.model_version = t.model_version AND s.as_of_week = t.as_of_week
);

INSERT INTO retailds.monitoring_check (
    model_version, as_of_week, check_name, scope, value, threshold, status, message, checked_at
)
SELECT model_version, as_of_week, check_name, scope, value, threshold, status, message, checked_at
FROM retailds.stg_monitoring_check;

DELETE FROM retailds.stg_monitoring_check;
