-- Monitoring (issue #14): the additive sums every score is made of, over EVERY stored forecast
-- whose actual has arrived, computed where the rows are (a few thousand rows come back instead of
-- millions): per model version, horizon step, holiday flag and value of a segment (the week as
-- YYYY-MM-DD, the store type, the department), the row count, the sums of absolute and signed
-- errors (forecast - actual), and how many rows have a band and how many actuals fall inside it.
-- retail_forecasting.monitoring.checks.scores_from_sums turns them into WMAE, MAE, bias, the
-- promised WMAE and coverage; checks.score_sums is the same in pandas (tested equal).
SELECT
    model_version,
    step,
    is_holiday,
    CASE WHEN GROUPING(week) = 0 THEN 'week' WHEN GROUPING(store_type) = 0 THEN 'store_type' ELSE 'dept' END
        AS segment,
    CASE WHEN GROUPING(week) = 0 THEN week WHEN GROUPING(store_type) = 0 THEN store_type ELSE dept END
        AS segment_value,
    COUNT(*) AS n,
    SUM(ABS(forecast - actual)) AS abs_err,
    SUM(forecast - actual) AS err,
    COUNT(q0_1) AS n80,
    SUM(CASE WHEN actual >= q0_1 AND actual <= q0_9 THEN 1 ELSE 0 END) AS in80,
    COUNT(q0_025) AS n95,
    SUM(CASE WHEN actual >= q0_025 AND actual <= q0_975 THEN 1 ELSE 0 END) AS in95
FROM (
    SELECT model_version, step, COALESCE(is_holiday, FALSE) AS is_holiday,
           CAST(date AS VARCHAR(10)) AS week, store_type, CAST(dept AS VARCHAR(10)) AS dept,
           forecast, actual, q0_025, q0_1, q0_9, q0_975
    FROM retailds.vw_forecast_vs_actual
    WHERE actual IS NOT NULL
) AS scored
GROUP BY GROUPING SETS (
    (model_version, step, is_holiday, week),
    (model_version, step, is_holiday, store_type),
    (model_version, step, is_holiday, dept)
)
ORDER BY segment, model_version, step, is_holiday, segment_value
