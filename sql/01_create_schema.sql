-- Warehouse schema `retailds`: star schema for weekly sales per store and department.
-- Portable between PostgreSQL (RDS in production, `kedro run --env local`) and DuckDB (the
-- embedded default): run it with psql as is. Idempotent: every statement is IF NOT EXISTS.

CREATE SCHEMA IF NOT EXISTS retailds;

-- Stores: type (A/B/C) and size in square feet, from stores.csv.
CREATE TABLE IF NOT EXISTS retailds.dim_store (
    store_id    INTEGER     PRIMARY KEY,
    store_type  VARCHAR(1)  NOT NULL,
    store_size  INTEGER     NOT NULL
);

-- Departments seen in the sales (the Kaggle bundle has no department attributes).
CREATE TABLE IF NOT EXISTS retailds.dim_dept (
    dept_id     INTEGER     PRIMARY KEY
);

-- Store-week covariates from features.csv (they extend past the sales period).
CREATE TABLE IF NOT EXISTS retailds.store_features_weekly (
    store_id     INTEGER           NOT NULL REFERENCES retailds.dim_store (store_id),
    week_date    DATE              NOT NULL,
    temperature  DOUBLE PRECISION,
    fuel_price   DOUBLE PRECISION,
    markdown1    DOUBLE PRECISION,
    markdown2    DOUBLE PRECISION,
    markdown3    DOUBLE PRECISION,
    markdown4    DOUBLE PRECISION,
    markdown5    DOUBLE PRECISION,
    cpi          DOUBLE PRECISION,
    unemployment DOUBLE PRECISION,
    is_holiday   BOOLEAN           NOT NULL,
    PRIMARY KEY (store_id, week_date)
);

-- Weekly sales facts, one row per (store, department, week ending Friday).
CREATE TABLE IF NOT EXISTS retailds.fact_sales_weekly (
    store_id     INTEGER           NOT NULL REFERENCES retailds.dim_store (store_id),
    dept_id      INTEGER           NOT NULL REFERENCES retailds.dim_dept (dept_id),
    week_date    DATE              NOT NULL,
    weekly_sales DOUBLE PRECISION  NOT NULL,
    is_holiday   BOOLEAN           NOT NULL,
    PRIMARY KEY (store_id, dept_id, week_date)
);

-- Staging tables: bulk-loaded (COPY) without constraints, then upserted into the tables above
-- by 03_upsert_from_staging.sql in the same transaction, and emptied again.
CREATE TABLE IF NOT EXISTS retailds.stg_store (
    store_id    INTEGER,
    store_type  VARCHAR(1),
    store_size  INTEGER
);

CREATE TABLE IF NOT EXISTS retailds.stg_store_features_weekly (
    store_id     INTEGER,
    week_date    DATE,
    temperature  DOUBLE PRECISION,
    fuel_price   DOUBLE PRECISION,
    markdown1    DOUBLE PRECISION,
    markdown2    DOUBLE PRECISION,
    markdown3    DOUBLE PRECISION,
    markdown4    DOUBLE PRECISION,
    markdown5    DOUBLE PRECISION,
    cpi          DOUBLE PRECISION,
    unemployment DOUBLE PRECISION,
    is_holiday   BOOLEAN
);

CREATE TABLE IF NOT EXISTS retailds.stg_sales_weekly (
    store_id     INTEGER,
    dept_id      INTEGER,
    week_date    DATE,
    weekly_sales DOUBLE PRECISION,
    is_holiday   BOOLEAN
);
