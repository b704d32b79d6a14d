-- Forecasts and monitoring in the warehouse (issue #14). Portable between PostgreSQL and DuckDB,
-- idempotent (IF NOT EXISTS; the view is dropped and recreated). Run with the other schema files
-- (after 01_create_schema.sql, which creates the schema and the sales tables the view reads).
--
-- fact_forecast_weekly: one row per forecast made by a registered model version at an origin
-- week (the newest week of actuals it saw) for a (store, dept, week), `step` weeks ahead.
-- Written by the `forecast` pipeline (from the warehouse's newest week) and the `inference`
-- pipeline (the rows test.csv lists, from the model's training origin) through
-- stg_forecast_weekly and 06_upsert_forecasts_from_staging.sql: re-running an origin replaces its
-- rows, never duplicates; 08_forecast_retention.sql keeps the last 52 weeks of origins.
-- The quantile columns are NULL until the model returns prediction intervals
-- (Weekly_Sales_q0.025 -> q0_025, ..., Weekly_Sales_q0.975 -> q0_975).

CREATE TABLE IF NOT EXISTS retailds.fact_forecast_weekly (
    model_name      VARCHAR(100)      NOT NULL,
    model_version   VARCHAR(40)       NOT NULL,
    run_id          VARCHAR(64),
    origin_date     DATE              NOT NULL,
    store_id        INTEGER           NOT NULL,
    dept_id         INTEGER           NOT NULL,
    week_date       DATE              NOT NULL,
    step            INTEGER           NOT NULL,
    forecast        DOUBLE PRECISION  NOT NULL,
    q0_025          DOUBLE PRECISION,
    q0_1            DOUBLE PRECISION,
    q0_5            DOUBLE PRECISION,
    q0_9            DOUBLE PRECISION,
    q0_975          DOUBLE PRECISION,
    forecast_basis  VARCHAR(20)       NOT NULL,
    created_at      TIMESTAMP         NOT NULL,
    PRIMARY KEY (model_version, origin_date, store_id, dept_id, week_date)
);

CREATE TABLE IF NOT EXISTS retailds.stg_forecast_weekly (
    model_name      VARCHAR(100),
    model_version   VARCHAR(40),
    run_id          VARCHAR(64),
    origin_date     DATE,
    store_id        INTEGER,
    dept_id         INTEGER,
    week_date       DATE,
    step            INTEGER,
    forecast        DOUBLE PRECISION,
    q0_025          DOUBLE PRECISION,
    q0_1            DOUBLE PRECISION,
    q0_5            DOUBLE PRECISION,
    q0_9            DOUBLE PRECISION,
    q0_975          DOUBLE PRECISION,
    forecast_basis  VARCHAR(20),
    created_at      TIMESTAMP
);

-- monitoring_check: one row per check of a `monitoring` run, for the newest week of actuals
-- (`as_of_week`): accuracy against the backtest's promise, drift of the inputs. status is
-- ok | alert | info. Re-running the monitoring of a week replaces its rows.
CREATE TABLE IF NOT EXISTS retailds.monitoring_check (
    model_version   VARCHAR(40)       NOT NULL,
    as_of_week      DATE              NOT NULL,
    check_name      VARCHAR(60)       NOT NULL,
    scope           VARCHAR(60)       NOT NULL,
    value           DOUBLE PRECISION,
    threshold       DOUBLE PRECISION,
    status          VARCHAR(10)       NOT NULL,
    message         VARCHAR(1000)     NOT NULL,
    checked_at      TIMESTAMP         NOT NULL,
    PRIMARY KEY (model_version, as_of_week, check_name, scope)
);

CREATE TABLE IF NOT EXISTS retailds.stg_monitoring_check (
    model_version   VARCHAR(40),
    as_of_week      DATE,
    check_name      VARCHAR(60),
    scope           VARCHAR(60),
    value           DOUBLE PRECISION,
    threshold       DOUBLE PRECISION,
    status          VARCHAR(10),
    message         VARCHAR(1000),
    checked_at      TIMESTAMP
);

-- Forecasts next to their actuals, for planners and BI: every stored forecast, with its actual
-- once the store's sales of that week are loaded: the sales, or 0 when the series has no row that
-- week (Kaggle convention: no row = no sales); NULL while the week has not arrived.
DROP VIEW IF EXISTS retailds.vw_forecast_vs_actual;

CREATE VIEW retailds.vw_forecast_vs_actual AS
SELECT
    f.model_name      AS model_name,
    f.model_version   AS model_version,
    f.run_id          AS run_id,
    f.origin_date     AS origin,
    f.store_id        AS store,
    f.dept_id         AS dept,
    s.store_type      AS store_type,
    f.week_date       AS date,
    f.step            AS step,
    f.forecast        AS forecast,
    f.q0_025          AS q0_025,
    f.q0_1            AS q0_1,
    f.q0_5            AS q0_5,
    f.q0_9            AS q0_9,
    f.q0_975          AS q0_975,
    f.forecast_basis  AS forecast_basis,
    COALESCE(a.weekly_sales,
             CASE WHEN loaded.week_date IS NOT NULL THEN 0.0 END) AS actual,
    COALESCE(a.is_holiday, w.is_holiday) AS is_holiday,
    f.created_at      AS created_at
FROM retailds.fact_forecast_weekly AS f
LEFT JOIN retailds.dim_store AS s
    ON s.store_id = f.store_id
LEFT JOIN retailds.fact_sales_weekly AS a
    ON a.store_id = f.store_id AND a.dept_id = f.dept_id AND a.week_date = f.week_date
LEFT JOIN (SELECT DISTINCT store_id, week_date FROM retailds.fact_sales_weekly) AS loaded
    ON loaded.store_id = f.store_id AND loaded.week_date = f.week_date
LEFT JOIN retailds.store_features_weekly AS w
    ON w.store_id = f.store_id AND w.week_date = f.week_date;
