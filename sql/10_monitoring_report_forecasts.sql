-- Monitoring (issue #14): for the planner's report, per model version, series and past week of
-- the last 53 weeks, the latest forecast made before that week (the smallest step) with its
-- actual (at most 53 x series rows). Read by the catalog's mon_report_forecasts.
SELECT *
FROM (
    SELECT v.*,
           ROW_NUMBER() OVER (PARTITION BY v.model_version, v.store, v.dept, v.date ORDER BY v.step) AS latest_rank
    FROM retailds.vw_forecast_vs_actual AS v
    WHERE v.actual IS NOT NULL
      AND v.date > (SELECT MAX(week_date) FROM retailds.fact_sales_weekly) - 371
) AS ranked
WHERE latest_rank = 1
ORDER BY model_version, store, dept, date
