-- Analytics view read by the `ingestion` pipeline (`prm_sales_analytics` in the catalog):
-- one row per sales fact, joined with its store and the store-week covariates.
-- Column names are the project's contract (snake_case versions of the Kaggle names).

DROP VIEW IF EXISTS retailds.vw_sales_analytics;

CREATE VIEW retailds.vw_sales_analytics AS
SELECT
    f.store_id      AS store,
    f.dept_id       AS dept,
    f.week_date     AS date,
    f.weekly_sales  AS weekly_sales,
    f.is_holiday    AS is_holiday,
    s.store_type    AS store_type,
    s.store_size    AS store_size,
    w.temperature   AS temperature,
    w.fuel_price    AS fuel_price,
    w.markdown1     AS markdown1,
    w.markdown2     AS markdown2,
    w.markdown3     AS markdown3,
    w.markdown4     AS markdown4,
    w.markdown5     AS markdown5,
    w.cpi           AS cpi,
    w.unemployment  AS unemployment
FROM retailds.fact_sales_weekly AS f
JOIN retailds.dim_store AS s
    ON s.store_id = f.store_id
LEFT JOIN retailds.store_features_weekly AS w
    ON w.store_id = f.store_id AND w.week_date = f.week_date;
